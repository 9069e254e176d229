"""Which mentorships a mentor's portfolio counts (``matching.portfolio.counts_as_mentored``):
one that lasted at least 30 days, or had a meeting held, counts; one undone two minutes
after it was made does not, and neither do its goals or thank-you note.

Carol (attending) mentors; everyone is in New York. The period is May 2025; "now" is fixed
at noon UTC on May 31, 2025.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from matching.models import Meeting, Mentorship
from matching.portfolio import COUNTING_RULE, MIN_DAYS, counts_as_mentored, mentor_portfolio
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.portfolio_world import _goal, _held

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 5, 31, 12, tzinfo=UTC)
MAY = {"start": date(2025, 5, 1), "end": date(2025, 5, 31)}
STARTED = datetime(2025, 5, 1, 14, tzinfo=UTC)


def _mentee(program, first):
    person = UserFactory(first_name=first, last_name="Mentee")
    MembershipFactory(user=person, program=program, role="resident")
    MenteeProfileFactory(user=person)
    return person


def _ended(program, mentor, first, *, lasted, note=""):
    return MentorshipFactory(
        mentee=_mentee(program, first),
        mentor=mentor,
        program=program,
        started_at=STARTED,
        ended_at=STARTED + lasted,
        status=Mentorship.Status.ENDED,
        thank_you_note=note,
    )


def _active(program, mentor, first, *, started):
    return MentorshipFactory(mentee=_mentee(program, first), mentor=mentor, program=program, started_at=started)


# --- The rule itself.


@pytest.mark.parametrize(
    ("lasted", "counts"),
    [
        (timedelta(minutes=2), False),
        (timedelta(days=MIN_DAYS) - timedelta(seconds=1), False),
        (timedelta(days=MIN_DAYS), True),  # exactly at the boundary
        (timedelta(days=MIN_DAYS, minutes=1), True),
    ],
)
def test_an_ended_mentorship_counts_from_30_days(program, attending, lasted, counts):
    m = _ended(program, attending, "Ed", lasted=lasted)
    assert counts_as_mentored(m, had_meeting_held=False, now=NOW) is counts


def test_a_two_minute_mentorship_with_a_meeting_held_counts(program, attending):
    m = _ended(program, attending, "Ed", lasted=timedelta(minutes=2))
    assert counts_as_mentored(m, had_meeting_held=True, now=NOW) is True


@pytest.mark.parametrize(
    ("days_ago", "counts"),
    [(MIN_DAYS - 1, False), (MIN_DAYS, True)],
)
def test_an_active_mentorship_counts_once_it_has_lasted_30_days_so_far(program, attending, days_ago, counts):
    m = _active(program, attending, "Ada", started=NOW - timedelta(days=days_ago))
    assert counts_as_mentored(m, had_meeting_held=False, now=NOW) is counts


# --- The portfolio applies it, to every list.


def test_the_portfolio_leaves_out_what_does_not_count(program, attending):
    two_minutes = _ended(program, attending, "Quick", lasted=timedelta(minutes=2), note="Thanks anyway")
    _goal(two_minutes, "Set up the first meeting", STARTED + timedelta(minutes=1))
    _ended(program, attending, "Boundary", lasted=timedelta(days=MIN_DAYS))
    short_but_met = _ended(program, attending, "Met", lasted=timedelta(days=3), note="Thank you!")
    _held(short_but_met, STARTED + timedelta(days=1), 45)
    _active(program, attending, "New", started=NOW - timedelta(days=5))
    _active(program, attending, "Settled", started=NOW - timedelta(days=MIN_DAYS))

    p = mentor_portfolio(attending, now=NOW, **MAY)

    assert sorted(r.mentee for r in p.mentees) == ["Boundary Mentee", "Met Mentee", "Settled Mentee"]
    # The two-minute one and the one started five days ago, each with why.
    assert [(r.mentee, r.not_counted_why) for r in p.not_counted] == [
        ("Quick Mentee", "ended after 2 minutes, with no meeting held"),
        ("New Mentee", "started 26 May 2025, no meeting held yet: counts from 25 Jun 2025, or once a meeting is held"),
    ]
    assert p.counting_note.endswith("Not counted here: 2 mentorships under 30 days with no meeting held.")
    assert [t.mentee for t in p.thanks] == ["Met Mentee"]
    assert p.goals == []
    assert p.meetings_held == 1


def test_an_active_mentorship_counts_later_without_anything_new(program, attending):
    _active(program, attending, "New", started=NOW - timedelta(days=5))
    assert mentor_portfolio(attending, now=NOW, **MAY).mentees == []
    later = mentor_portfolio(attending, now=NOW + timedelta(days=MIN_DAYS), **MAY)
    assert [r.mentee for r in later.mentees] == ["New Mentee"]


def test_a_cancelled_meeting_is_not_a_meeting_held(program, attending):
    m = _ended(program, attending, "Quick", lasted=timedelta(minutes=2))
    _held(m, STARTED + timedelta(minutes=1), 30, status=Meeting.Status.CANCELLED)
    p = mentor_portfolio(attending, now=NOW, **MAY)
    assert p.mentees == [] and [r.mentee for r in p.not_counted] == ["Quick Mentee"]


# --- The page says the rule.


def test_the_page_says_the_rule_and_how_many_were_left_out(client_for, program, attending):
    _ended(program, attending, "Quick", lasted=timedelta(minutes=2))
    html = client_for(attending).get("/portfolio/", {"from": "2025-05-01", "to": "2025-05-31"}).content.decode()
    assert COUNTING_RULE == "A mentee counts once the mentorship has lasted 30 days or had a meeting held."
    assert COUNTING_RULE in html
    assert "Not counted here: 1 mentorship under 30 days with no meeting held." in html
    # Listed apart, with why, and in no total.
    assert "<strong>Quick Mentee</strong> (career): ended after 2 minutes, with no meeting held." in html
    assert "No mentorships that count in this period." in html
    assert "<dt>Mentees</dt><dd>0</dd>" in html


def test_the_page_says_the_rule_with_nothing_left_out(client_for, attending):
    html = client_for(attending).get("/portfolio/").content.decode()
    assert COUNTING_RULE in html and "Not counted" not in html
