"""The mentoring portfolio: figures over a period, the mentor's own only, as a page, a CSV and JSON.

Everyone is in America/New_York (UserFactory). The period is the academic year July 1, 2024 –
June 30, 2025; its edges are New York days, so 03:30 UTC on July 1 (11:30 p.m. on June 30
there) is outside it at the start and inside it at the end.
"""

import csv
import io
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import AcademicRank
from matching.models import ActionItem, Meeting, Mentorship
from matching.portfolio import current_academic_year, last_academic_year, mentor_portfolio
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory

from .factories import ActionItemFactory, MentorshipFactory

pytestmark = pytest.mark.django_db

START, END = date(2024, 7, 1), date(2025, 6, 30)
PERIOD = {"from": "2024-07-01", "to": "2025-06-30"}


def _at(*args):
    return datetime(*args, tzinfo=UTC)


def _held(mentorship, start, minutes, status=Meeting.Status.HELD):
    return Meeting.objects.create(
        mentorship=mentorship, proposed_by=mentorship.mentee, status=status, start=start, duration_minutes=minutes
    )


def _goal(mentorship, title, completed_at, status=ActionItem.Status.DONE):
    return ActionItemFactory(mentorship=mentorship, title=title, status=status, completed_at=completed_at)


@pytest.fixture
def record(program, resident, other_resident, attending, other_attending):
    """Carol's year:
    - Alice (career), since May 2024, still active;
    - Bob (research), Sept 2024 – completed March 15, 2025, with a thank-you note;
    - Marcus (career), Aug 2024 – ended May 1, 2025, with a thank-you note too;
    - Priya (wellness), 2023 – June 15, 2024: finished before the period, so left out, note and all.
    Dave mentors Alice in research: none of it is Carol's."""
    attending.mentor_profile.academic_rank = AcademicRank.objects.get(name="Associate Professor")
    attending.mentor_profile.save()
    marcus, priya = (
        UserFactory(first_name="Marcus", last_name="Moore"),
        UserFactory(first_name="Priya", last_name="Patel"),
    )
    for person in (marcus, priya):
        MembershipFactory(user=person, program=program, role="resident")
        MenteeProfileFactory(user=person)
    alice = MentorshipFactory(mentee=resident, mentor=attending, program=program, started_at=_at(2024, 5, 1, 14))
    bob = MentorshipFactory(
        mentee=other_resident,
        mentor=attending,
        program=program,
        kind="research",
        started_at=_at(2024, 9, 1, 14),
        status=Mentorship.Status.COMPLETED,
        ended_at=_at(2025, 3, 15, 14),
        thank_you_note="=Thank you for a wonderful year",
    )
    ended = MentorshipFactory(
        mentee=marcus,
        mentor=attending,
        program=program,
        started_at=_at(2024, 8, 1, 14),
        status=Mentorship.Status.ENDED,
        ended_at=_at(2025, 5, 1, 14),
        thank_you_note="Thanks all the same",
    )
    MentorshipFactory(
        mentee=priya,
        mentor=attending,
        program=program,
        kind="wellness",
        started_at=_at(2023, 1, 10, 14),
        status=Mentorship.Status.COMPLETED,
        ended_at=_at(2024, 6, 15, 14),
        thank_you_note="From the year before",
    )
    daves = MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")

    _held(alice, _at(2024, 7, 1, 3, 30), 60)  # June 30, 11:30 p.m. in New York: before the period
    _held(alice, _at(2024, 7, 1, 4, 30), 30)  # July 1, 00:30 in New York: the first half hour of it
    _held(alice, _at(2025, 1, 15, 15), 45)
    _held(alice, _at(2025, 2, 1, 15), 60, status=Meeting.Status.CONFIRMED)  # never marked held
    _held(alice, _at(2025, 2, 8, 15), 60, status=Meeting.Status.CANCELLED)
    _held(bob, _at(2024, 10, 10, 15), 90)
    _held(bob, _at(2025, 7, 1, 3, 30), 20)  # June 30, 11:30 p.m. in New York: the last day
    _held(daves, _at(2025, 1, 1, 15), 60)

    _goal(alice, "Submit the abstract", _at(2025, 2, 2, 15))
    _goal(alice, "Old goal", _at(2024, 6, 20, 15))  # done before the period
    _goal(alice, "Still open", None, status=ActionItem.Status.OPEN)
    _goal(alice, "Dropped", _at(2025, 1, 2, 15), status=ActionItem.Status.DROPPED)
    _goal(bob, "-Pass the boards practice test", _at(2025, 3, 1, 15))
    _goal(daves, "Dave's goal", _at(2025, 3, 1, 15))
    return {"alice": alice, "bob": bob, "marcus": ended}


def test_the_figures_over_a_period(record, attending, resident, other_resident):
    p = mentor_portfolio(attending, start=START, end=END)

    assert p.rank == "Associate Professor"
    assert [(r.mentee, r.kind, r.started, r.ended) for r in p.mentees] == [
        (resident.full_name, "Career", date(2024, 5, 1), None),
        ("Marcus Moore", "Career", date(2024, 8, 1), date(2025, 5, 1)),
        (other_resident.full_name, "Research", date(2024, 9, 1), date(2025, 3, 15)),
    ]
    # Held inside the period: 30 + 45 (Alice) and 90 + 20 (Bob) = 185 minutes = 3.08 hours.
    assert p.meetings_held == 4 and p.minutes == 185 and p.hours == Decimal("3.08")
    assert [(m.held_on, m.minutes) for m in p.meetings] == [
        (date(2024, 7, 1), 30),
        (date(2024, 10, 10), 90),
        (date(2025, 1, 15), 45),
        (date(2025, 6, 30), 20),
    ]
    by_mentee = {r.mentee: (r.meetings_held, r.hours, r.goals_reached) for r in p.mentees}
    assert by_mentee == {
        resident.full_name: (2, Decimal("1.25"), 1),  # 75 minutes
        other_resident.full_name: (2, Decimal("1.83"), 1),  # 110 minutes
        "Marcus Moore": (0, Decimal("0.00"), 0),
    }
    assert [(g.reached_on, g.title) for g in p.goals] == [
        (date(2025, 2, 2), "Submit the abstract"),
        (date(2025, 3, 1), "-Pass the boards practice test"),
    ]
    assert [(t.mentee, t.finished_on, t.note) for t in p.thanks] == [
        (other_resident.full_name, date(2025, 3, 15), "=Thank you for a wonderful year"),
        ("Marcus Moore", date(2025, 5, 1), "Thanks all the same"),
    ]


def test_a_narrower_period_counts_only_what_fell_in_it(record, attending):
    p = mentor_portfolio(attending, start=date(2025, 1, 1), end=date(2025, 3, 31))
    assert [m.minutes for m in p.meetings] == [45]
    assert [g.title for g in p.goals] == ["Submit the abstract", "-Pass the boards practice test"]
    assert [t.finished_on for t in p.thanks] == [date(2025, 3, 15)]
    assert len(p.mentees) == 3  # all three were mentees at some point in the quarter


def test_the_last_complete_academic_year():
    assert last_academic_year(date(2025, 3, 10)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert last_academic_year(date(2025, 6, 30)) == (date(2023, 7, 1), date(2024, 6, 30))
    assert last_academic_year(date(2025, 7, 1)) == (date(2024, 7, 1), date(2025, 6, 30))
    assert current_academic_year(date(2025, 3, 10)) == (date(2024, 7, 1), date(2025, 3, 10))


# --- The page.


def test_the_page_shows_the_record_with_the_mentors_name_rank_and_period(client_for, record, attending):
    html = client_for(attending).get("/portfolio/", PERIOD).content.decode()
    assert f"Mentoring portfolio: {attending.full_name}" in html
    assert "Associate Professor" in html and "July 1, 2024" in html and "June 30, 2025" in html
    assert "3.08" in html and "1.83" in html and "Submit the abstract" in html
    assert "=Thank you for a wonderful year" in html and "From the year before" not in html
    assert "Dave&#x27;s goal" not in html and "Dave's goal" not in html
    assert "data-print hidden" in html and "Save as PDF" in html
    assert "/static/js/portfolio.js" in html and "<script>" not in html and "style=" not in html


def test_the_page_without_dates_shows_the_last_twelve_months(client_for, attending):
    from django.utils import timezone

    response = client_for(attending).get("/portfolio/")
    start, end = response.context["start"], response.context["end"]
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(attending.time_zone))
    assert (start, end) == (today - timedelta(days=364), today)
    assert [label for label, *_ in response.context["periods"]] == [
        "Last 12 months",
        "This academic year so far",
        "Last academic year",
    ]


def test_a_backwards_period_is_pointed_out(client_for, attending):
    response = client_for(attending).get("/portfolio/", {"from": "2025-06-30", "to": "2024-07-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_a_mentor_sees_only_their_own_record(client_for, record, other_attending, attending):
    # Nothing in the request can name another mentor: Dave's page is Dave's.
    response = client_for(other_attending).get("/portfolio/", {**PERIOD, "mentor": attending.pk, "user": attending.pk})
    p = response.context["portfolio"]
    assert [m.minutes for m in p.meetings] == [60] and [g.title for g in p.goals] == ["Dave's goal"]
    assert "Submit the abstract" not in response.content.decode()


def test_someone_without_a_mentor_profile_gets_a_clear_empty_state(client_for, resident, coordinator):
    html = client_for(resident).get("/portfolio/").content.decode()
    assert "The portfolio is for mentors" in html
    assert client_for(resident).get("/portfolio/portfolio.csv").status_code == 404


def test_an_empty_period_says_so(client_for, attending):
    html = client_for(attending).get("/portfolio/", PERIOD).content.decode()
    assert "Nothing recorded in this period" in html


def test_the_dashboard_links_mentors_to_their_portfolio(client_for, attending, resident):
    assert 'href="/portfolio/"' in client_for(attending).get("/dashboard/").content.decode()
    assert 'href="/portfolio/"' not in client_for(resident).get("/dashboard/").content.decode()


@pytest.mark.parametrize("mentees", [1, 6])
def test_page_queries_do_not_grow_with_the_record(
    client_for, program, attending, django_assert_max_num_queries, mentees
):
    for n in range(mentees):
        mentee = UserFactory()
        MenteeProfileFactory(user=mentee)
        m = MentorshipFactory(
            mentee=mentee,
            mentor=attending,
            program=program,
            kind=["career", "research"][n % 2],
            started_at=_at(2024, 9, 1, 14),
        )
        _held(m, _at(2024, 10, 1 + n, 15), 30)
        _goal(m, f"Goal {n}", _at(2024, 11, 1 + n, 15))
    attending.mentor_profile.academic_rank = AcademicRank.objects.get(name="Professor")
    attending.mentor_profile.save()
    c = client_for(attending)
    c.get("/dashboard/")  # LastSeenMiddleware's write happens once, here
    # Budget (14, the same for 1 and 6 mentees):
    #   session, user; session save (savepoint pair and the update)              5
    #   has a mentor profile?; the profile with its rank and specialty            2
    #   mentorships (with mentee, stage, program), meetings, goals, notes         4
    #   base.html: roles, mentee profile, unread notifications                    3
    with django_assert_max_num_queries(14):
        assert c.get("/portfolio/", PERIOD).status_code == 200


# --- The CSV.


def test_the_csv_has_the_same_rows_with_a_bom_iso_dates_and_escaped_cells(
    client_for, record, attending, other_resident
):
    response = client_for(attending).get("/portfolio/portfolio.csv", PERIOD)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="mentoring-portfolio-2024-07-01-to-2025-06-30.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))
    assert rows[0][:3] == ["Record", "Date", "Mentee"]
    kinds = [r[0] for r in rows[1:]]
    assert kinds == ["Mentee"] * 3 + ["Meeting held"] * 4 + ["Goal reached"] * 2 + ["Thank-you note"] * 2 + ["Total"]
    bob = next(r for r in rows if r[0] == "Mentee" and r[2] == other_resident.full_name)
    assert bob[6:11] == ["2024-09-01", "2025-03-15", "2", "1.83", "1"]
    assert ["Meeting held", "2025-06-30", other_resident.full_name] in [r[:3] for r in rows]
    assert "'-Pass the boards practice test" in [r[-1] for r in rows]  # formula characters defused
    assert "'=Thank you for a wonderful year" in [r[-1] for r in rows]
    assert rows[-1][:2] == ["Total", "2024-07-01/2025-06-30"] and rows[-1][8:11] == ["4", "3.08", "2"]


# --- The API.


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_returns_the_same_record(record, attending):
    body = _api(attending).get("/api/v1/me/portfolio/", PERIOD).json()
    assert (body["mentor"], body["rank"], body["start"], body["end"]) == (
        attending.full_name,
        "Associate Professor",
        "2024-07-01",
        "2025-06-30",
    )
    assert body["totals"] == {
        "mentees": 3,
        "meetings_held": 4,
        "hours": "3.08",
        "goals_reached": 2,
        "thank_you_notes": 2,
    }
    assert [m["minutes"] for m in body["meetings"]] == [30, 90, 45, 20]


def test_the_api_is_for_mentors_and_checks_dates(resident, attending):
    assert _api(resident).get("/api/v1/me/portfolio/").status_code == 404
    assert _api(attending).get("/api/v1/me/portfolio/", {"from": "2025-02-30"}).status_code == 400
    bad = _api(attending).get("/api/v1/me/portfolio/", {"from": "2025-03-01", "to": "2025-01-01"})
    assert bad.status_code == 400 and "to" in bad.json()
    assert APIClient().get("/api/v1/me/portfolio/").status_code in (401, 403)


def test_a_near_peer_mentor_is_named_by_career_stage(program, db):
    from accounts.models import CareerStage

    fellow = UserFactory()
    MentorProfileFactory(user=fellow, career_stage=CareerStage.objects.get(code="PGY-4"))
    assert mentor_portfolio(fellow, start=START, end=END).rank == CareerStage.objects.get(code="PGY-4").name


def test_a_period_beyond_what_a_day_can_hold_falls_back_to_the_default(client_for, attending):
    response = client_for(attending).get("/portfolio/", {"to": "9999-12-31"})
    assert response.status_code == 200
    assert "Choose a day between 1900 and 9999." in response.content.decode()
