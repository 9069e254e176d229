"""Program health: every figure against values worked out by hand on fixed data, the
check-in anonymity threshold, and a coordinator of one program seeing nothing of another.

The fixed world (``world``), "now" being Thursday 2026-10-15 12:00 UTC, so the academic
year 2026–27 runs from 2026-07-01 04:00 UTC (midnight in New York, the program's zone):

Internal Medicine (``program``), residents and their active mentorships:
    Alice PGY-1  career ← Carol (since Jun 1; met Jul 10 and Sep 20)
    Bob   PGY-1  career ← Carol (since Jul 16; never met)                 stale, 91 days
    Eve   PGY-1  —       (career with Mia ended Aug 31, re-match asked)   waiting
    Finn  PGY-2  research ← Dave (since Aug 1; met Aug 10, a later one cancelled)  stale, 65 days
    Gina  PGY-2  career ← Dave (since Sep 1; a meeting proposed)
    Hank  PGY-3  wellness ← Mia (since Sep 20; one confirmed for Oct 20)
    Ivy   (year not set) — (wellness with Ned ended Feb 1, re-match asked) waiting
Mentors: Carol 2/2 (full), Dave 2/1 (over), Mia 1/1 (full), Ned 0/3 accepting, Pia 0/2 not accepting.

General Surgery (``other_program``): Olivia ← Zed, with a request, a meeting and a
check-in whose comment is "B-secret-comment": none of it may show up in program A.
"""

import types
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import CareerStage, Membership
from matching import health
from matching.models import CheckIn, Meeting, Mentorship, MentorshipRequest
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 15, 12, tzinfo=UTC)
MONTH_DAYS = 365.25 / 12


def at(month, day, hour=12, year=2026):
    return datetime(year, month, day, hour, tzinfo=UTC)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def frozen(monkeypatch):
    """Pages and the API read "now" from matching.health's clock: pin it to NOW."""
    monkeypatch.setattr(
        health, "timezone", types.SimpleNamespace(now=lambda: NOW, get_default_timezone=timezone.get_default_timezone)
    )


def _resident(program, first, last, stage="PGY-1"):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=user, career_stage=CareerStage.objects.get(code=stage) if stage else None)
    return user


def _mentor(program, first, last, capacity, accepting=True):
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=user, capacity=capacity, accepting_mentees=accepting)
    return user


def _pair(mentee, mentor, program, kind, started, ended=None, status=Mentorship.Status.ACTIVE, rematch=False):
    return MentorshipFactory(
        mentee=mentee,
        mentor=mentor,
        program=program,
        kind=kind,
        started_at=started,
        ended_at=ended,
        status=status if ended is None else Mentorship.Status.ENDED,
        rematch_requested=rematch,
    )


def _meeting(mentorship, status, start):
    return Meeting.objects.create(mentorship=mentorship, proposed_by=mentorship.mentor, status=status, start=start)


def _request(mentee, mentor, program, status, created, resolved=None, kind="career"):
    return MentorshipRequest.objects.create(
        mentee=mentee,
        mentor=mentor,
        program=program,
        kind=kind,
        message="Hello",
        status=status,
        created_at=created,
        resolved_at=resolved,
    )


def _checkin(mentorship, author, rating, when, comment=""):
    return CheckIn.objects.create(mentorship=mentorship, author=author, rating=rating, comment=comment, created_at=when)


@pytest.fixture
def world(
    program,
    other_program,
    resident,
    other_resident,
    attending,
    other_attending,
    coordinator,
    other_coordinator,
    outsider,
):
    alice, bob, carol, dave = resident, other_resident, attending, other_attending
    dave.mentor_profile.capacity = 1  # lowered after he took two mentees: over capacity
    dave.mentor_profile.save()
    eve = _resident(program, "Eve", "Evans")
    finn = _resident(program, "Finn", "Fox", "PGY-2")
    gina = _resident(program, "Gina", "Gold", "PGY-2")
    hank = _resident(program, "Hank", "Hill", "PGY-3")
    ivy = _resident(program, "Ivy", "Ingram", None)
    mia = _mentor(program, "Mia", "Moss", 1)
    ned = _mentor(program, "Ned", "Nash", 3)
    _mentor(program, "Pia", "Park", 2, accepting=False)

    m1 = _pair(alice, carol, program, "career", at(6, 1))
    m2 = _pair(bob, carol, program, "career", at(7, 16))
    m3 = _pair(finn, dave, program, "research", at(8, 1))
    m4 = _pair(gina, dave, program, "career", at(9, 1))
    m5 = _pair(eve, mia, program, "career", at(5, 1), ended=at(8, 31), rematch=True)
    m6 = _pair(hank, mia, program, "wellness", at(9, 20))
    _pair(gina, carol, program, "wellness", at(9, 1, year=2025), ended=at(3, 1))  # last year, completed
    _pair(gina, carol, program, "career", at(9, 1, year=2025), ended=at(4, 1), rematch=True)  # re-matched since (m4)
    m10 = _pair(ivy, ned, program, "wellness", at(9, 1, year=2025), ended=at(2, 1), rematch=True)  # still waiting

    held, confirmed = Meeting.Status.HELD, Meeting.Status.CONFIRMED
    _meeting(m1, held, at(6, 15, 16))  # before the year
    _meeting(m1, held, at(7, 10, 16))
    _meeting(m1, held, at(9, 20, 16))
    _meeting(m3, held, at(8, 10, 16))
    _meeting(m3, Meeting.Status.CANCELLED, at(10, 1, 16))
    _meeting(m5, held, at(7, 20, 16))
    _meeting(m6, confirmed, at(10, 20, 16))
    Meeting.objects.create(mentorship=m4, proposed_by=dave, status=Meeting.Status.PROPOSED)

    R = MentorshipRequest.Status
    _request(
        gina, carol, program, R.DECLINED, datetime(2026, 7, 1, 3, tzinfo=UTC), datetime(2026, 7, 1, 5, tzinfo=UTC)
    )  # June 30 in New York
    _request(alice, carol, program, R.ACCEPTED, at(5, 20), at(5, 21))  # last year
    _request(bob, carol, program, R.ACCEPTED, at(7, 14), at(7, 16))  # 48 h
    _request(finn, dave, program, R.ACCEPTED, at(7, 30), at(8, 1, 0), kind="research")  # 36 h
    _request(eve, dave, program, R.DECLINED, at(9, 1), at(9, 2, 0))  # 12 h
    _request(eve, ned, program, R.DECLINED, at(9, 5), at(9, 11))  # 144 h
    _request(ivy, carol, program, R.EXPIRED, at(8, 1), at(8, 15))
    _request(gina, ned, program, R.WITHDRAWN, datetime(2026, 7, 1, 4, tzinfo=UTC), at(7, 2))  # the year's first instant
    _request(hank, ned, program, R.PENDING, at(10, 10))

    _checkin(m1, alice, 3, at(6, 20))  # last year
    _checkin(m1, alice, 5, at(7, 20), "Carol makes time for me")
    _checkin(m1, alice, 4, at(8, 20))
    _checkin(m1, carol, 4, at(7, 21))
    _checkin(m2, bob, 2, at(9, 1), "We never meet")
    _checkin(m5, eve, 1, at(8, 1), "Schedules never line up")
    _checkin(m3, finn, 3, at(9, 10))
    _checkin(m3, dave, 5, at(9, 11))
    _checkin(m6, hank, 4, at(9, 25))
    _checkin(m6, mia, 3, at(9, 26))
    _checkin(m6, hank, 5, at(10, 10))

    # Program B: active, busy, and secret.
    zed = _mentor(other_program, "Zed", "Zimmer", 2)
    b = _pair(outsider, zed, other_program, "career", at(1, 5))
    _meeting(b, held, at(9, 5, 16))
    _request(outsider, zed, other_program, R.ACCEPTED, at(7, 10), at(7, 11))
    _checkin(b, outsider, 1, at(9, 15), "B-secret-comment")

    return types.SimpleNamespace(
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        eve=eve,
        finn=finn,
        gina=gina,
        hank=hank,
        ivy=ivy,
        mia=mia,
        ned=ned,
        zed=zed,
        m1=m1,
        m2=m2,
        m3=m3,
        m5=m5,
        m10=m10,
    )


def names(people):
    return [p.full_name for p in people]


# --- Periods.


def test_academic_years_run_from_july_first_in_the_programs_zone(program):
    tz = health.program_zone(program)
    year = health.AcademicYear.of(2026, tz)
    assert year.label == "2026–27"
    assert year.start == datetime(2026, 7, 1, 4, tzinfo=UTC) and year.end == datetime(2027, 7, 1, 4, tzinfo=UTC)
    assert health.academic_year_containing(datetime(2026, 7, 1, 3, 59, tzinfo=UTC), tz) == 2025
    assert health.academic_year_containing(datetime(2026, 7, 1, 4, tzinfo=UTC), tz) == 2026


def test_years_with_data_go_back_to_the_first_activity(world, program, other_program):
    # The first mentorships started in September 2025 (academic year 2025–26).
    assert health.academic_years_with_data(program, now=NOW) == [2026, 2025]
    # A program with nothing yet offers the current year only.
    other_program.mentorships.all().delete()
    other_program.mentorship_requests.all().delete()
    assert health.academic_years_with_data(other_program, now=NOW) == [2026]


# --- Right now.


def test_residents_without_a_mentor_by_pgy_year_and_kind(world, program):
    cov = health.program_health(program, now=NOW).coverage

    assert [r.label for r in cov.rows] == ["PGY-1", "PGY-2", "PGY-3", "Year not set"]
    pgy1, pgy2, pgy3, unset = cov.rows
    assert (pgy1.residents, names(pgy1.without_mentor)) == (3, ["Eve Evans"])
    assert names(pgy1.gap("career").residents) == ["Eve Evans"]
    assert names(pgy1.gap("research").residents) == ["Alice Adams", "Bob Brown", "Eve Evans"]
    assert (pgy2.residents, pgy2.without_mentor) == (2, [])
    assert names(pgy2.gap("career").residents) == ["Finn Fox"]
    assert names(pgy2.gap("research").residents) == ["Gina Gold"]
    assert names(pgy3.gap("career").residents) == ["Hank Hill"] and pgy3.gap("wellness").count == 0
    assert names(unset.without_mentor) == ["Ivy Ingram"] and unset.gap("near_peer").count == 1

    total = cov.total
    assert (total.residents, total.with_mentor_count, total.without_mentor_count) == (7, 5, 2)
    assert [(g.kind, g.count) for g in total.by_kind] == [
        ("career", 4),
        ("research", 6),
        ("wellness", 6),
        ("near_peer", 7),
    ]
    assert "Olivia" not in str(cov)


def test_pgy_filter_narrows_the_residents(world, program):
    cov = health.program_health(program, pgy="PGY-2", now=NOW).coverage
    assert [r.label for r in cov.rows] == ["PGY-2"]
    assert (cov.total.residents, cov.total.without_mentor_count, cov.total.gap("career").count) == (2, 0, 1)


def test_mentor_load_against_capacity(world, program):
    load = health.program_health(program, now=NOW).load

    assert [(m.mentor.full_name, m.active, m.capacity, m.status) for m in load.mentors] == [
        ("Dave Diaz", 2, 1, "over"),
        ("Carol Chen", 2, 2, "full"),
        ("Mia Moss", 1, 1, "full"),
        ("Ned Nash", 0, 3, "idle"),
        ("Pia Park", 0, 2, "idle"),
    ]
    assert (load.capacity, load.active, load.open_spots, load.at_or_over_capacity) == (9, 5, 3, 3)
    assert [(b.key, b.count) for b in load.bands] == [("idle", 2), ("open", 0), ("full", 2), ("over", 1)]


def test_stale_pairings_have_no_meeting_held_or_confirmed_in_60_days(world, program):
    stale = health.program_health(program, now=NOW).stale

    assert stale.active_pairings == 5
    rows = [
        (s.mentee.full_name, s.mentor.full_name, s.kind, s.days_without_meeting, s.last_meeting_at)
        for s in stale.pairings
    ]
    assert rows == [
        ("Bob Brown", "Carol Chen", "career", 91, None),  # never met: counted from Jul 16
        (
            "Finn Fox",
            "Dave Diaz",
            "research",
            65,
            at(8, 10, 16),
        ),  # Aug 10 16:00 → Oct 15 12:00; the cancelled one does not count
    ]
    # Gina's pairing is 44 days old; Hank's has a meeting confirmed ahead; Alice met on Sep 20.
    assert health.program_health(program, pgy="PGY-1", now=NOW).stale.count == 1


def test_a_pairing_becomes_stale_on_day_61(world, program):
    # Gina's pairing started Sep 1 12:00 and never met: 60 days is Oct 31 12:00.
    assert "Gina Gold" not in names(s.mentee for s in health.program_health(program, now=at(10, 31)).stale.pairings)
    later = health.program_health(program, now=at(10, 31) + timedelta(seconds=1)).stale.pairings
    assert "Gina Gold" in names(s.mentee for s in later)


def test_rematch_requests_made_this_year_and_still_waiting(world, program):
    rematch = health.program_health(program, now=NOW).rematch

    assert [(r.mentee.full_name, r.kind, r.requested_at, r.waiting) for r in rematch.requests] == [
        ("Eve Evans", "career", at(8, 31), True),
        ("Ivy Ingram", "wellness", at(2, 1), True),  # last year's, still waiting
    ]  # Gina's (April) is not listed: she has a career mentor again and asked last year.
    assert (rematch.requested, rematch.waiting) == (1, 2)


# --- In the academic year.


def test_request_funnel_and_median_time_to_answer(world, program):
    funnel = health.program_health(program, now=NOW).funnel

    # Created in 2026–27: Bob, Finn, Eve ×2, Ivy, Gina (at the year's first instant), Hank.
    assert (
        funnel.sent,
        funnel.accepted,
        funnel.declined,
        funnel.expired,
        funnel.withdrawn,
        funnel.closed,
        funnel.pending,
    ) == (
        7,
        2,
        2,
        1,
        1,
        0,
        1,
    )
    # Answers took 48, 36, 12 and 144 hours: the median is (36 + 48) / 2.
    assert funnel.answered == 4 and funnel.median_answer == timedelta(hours=42) and funnel.acceptance_rate == 0.5

    pgy1 = health.program_health(program, pgy="PGY-1", now=NOW).funnel
    assert (pgy1.sent, pgy1.accepted, pgy1.declined) == (3, 1, 2) and pgy1.median_answer == timedelta(hours=48)


def test_last_years_funnel(world, program):
    funnel = health.program_health(program, academic_year=2025, now=NOW).funnel
    # Alice's in May, and Gina's at 23:00 on June 30 in New York (03:00 UTC on July 1).
    assert (funnel.sent, funnel.accepted, funnel.declined) == (2, 1, 1)
    assert funnel.median_answer == timedelta(hours=13)  # (24 + 2) / 2


def test_meeting_cadence_is_meetings_held_per_pairing_month(world, program):
    cadence = health.program_health(program, now=NOW).cadence

    assert cadence.held == 4  # Jul 10, Jul 20, Aug 10, Sep 20 (not June's, the cancelled or the confirmed)
    assert [(m.label, m.count) for m in cadence.by_month] == [
        ("Jul 2026", 2),
        ("Aug 2026", 1),
        ("Sep 2026", 1),
        ("Oct 2026", 0),
    ]
    # Days active from Jul 1 04:00 UTC to now: Alice 106⅓, Bob 91, Finn 75, Gina 44, Eve 61⅓ (to Aug 31), Hank 25.
    days = 106 + 8 / 24 + 91 + 75 + 44 + 61 + 8 / 24 + 25
    assert cadence.pairings == 6
    assert cadence.pairing_months == pytest.approx(days / MONTH_DAYS)
    assert cadence.per_pairing_month == pytest.approx(4 / (days / MONTH_DAYS))
    assert cadence.per_pairing_month == pytest.approx(0.30236, abs=1e-5)


def test_check_in_satisfaction_with_the_threshold(world, program):
    s = health.program_health(program, now=NOW).satisfaction

    # In the year: residents 5, 4, 2, 1, 3, 4, 5 (7, sum 24); mentors 4, 5, 3 (3, sum 12).
    assert (s.overall.responses, s.overall.average) == (10, 3.6)
    residents, mentors = s.by_side
    assert (residents.responses, residents.average) == (7, pytest.approx(24 / 7))
    assert (mentors.responses, mentors.average, mentors.hidden) == (3, 4.0, False)  # 3 responses: shown
    career, research, wellness, near_peer = s.by_kind
    assert (career.responses, career.average) == (5, 3.2)
    assert (research.responses, research.average, research.hidden_reason) == (2, None, health.FEW)  # 2: hidden
    # Wellness has 3, but with research hidden it would give research away (36 − 16 − 12 = its sum).
    assert (wellness.responses, wellness.average, wellness.hidden_reason) == (3, None, health.COMPLEMENT)
    assert (near_peer.responses, near_peer.average, near_peer.hidden) == (0, None, False)
    assert s.distribution == [1, 1, 2, 3, 3]


def test_check_ins_of_one_pgy_year_cannot_be_subtracted_from_the_whole(world, program):
    pgy1 = health.program_health(program, pgy="PGY-1", now=NOW).satisfaction
    # PGY-1: Alice 5, 4, Bob 2, Eve 1 and Carol 4, all on career mentorships.
    assert (pgy1.overall.responses, pgy1.overall.average) == (5, 3.2)
    residents, mentors = pgy1.by_side
    assert mentors.hidden_reason == health.FEW  # Carol's one check-in
    assert residents.hidden_reason == health.COMPLEMENT  # else 16 − 12 = Carol's rating
    assert pgy1.by_kind[0].average == 3.2
    assert pgy1.distribution == [1, 1, 0, 2, 1]

    # PGY-3 has 3 check-ins (Hank 4, 5, Mia 3), but PGY-2 has only 2 (Finn 3, Dave 5): showing
    # PGY-3 beside the whole and PGY-1 would give PGY-2's away.
    pgy3 = health.program_health(program, pgy="PGY-3", now=NOW).satisfaction
    assert (pgy3.overall.responses, pgy3.overall.hidden_reason, pgy3.distribution) == (3, health.COMPLEMENT, None)
    assert all(g.average is None for g in [*pgy3.by_side, *pgy3.by_kind])


def test_two_responses_are_hidden_and_three_are_shown(program, resident, attending):
    m = _pair(resident, attending, program, "career", at(7, 2))
    _checkin(m, resident, 2, at(7, 10))
    _checkin(m, resident, 5, at(8, 10))

    two = health.program_health(program, now=NOW).satisfaction
    assert (two.overall.responses, two.overall.average, two.overall.hidden_reason, two.distribution) == (
        2,
        None,
        health.FEW,
        None,
    )
    assert two.by_side[0].average is None and two.by_kind[0].average is None

    _checkin(m, resident, 5, at(9, 10))
    three = health.program_health(program, now=NOW).satisfaction
    assert (three.overall.responses, three.overall.average, three.distribution) == (3, 4.0, [0, 1, 0, 0, 2])
    assert three.by_side[0].average == 4.0 and three.by_kind[0].average == 4.0


def test_one_mentor_check_in_hides_the_residents_average_too(program, resident, attending):
    m = _pair(resident, attending, program, "career", at(7, 2))
    for month, rating in ((7, 5), (8, 4), (9, 3)):
        _checkin(m, resident, rating, at(month, 10))
    _checkin(m, attending, 1, at(7, 11))

    s = health.program_health(program, now=NOW).satisfaction
    assert (s.overall.responses, s.overall.average) == (4, 3.25)
    assert [(g.responses, g.hidden_reason) for g in s.by_side] == [(3, health.COMPLEMENT), (1, health.FEW)]


def test_comments_are_the_years_own_newest_first(world, program):
    period = health.program_period(program, now=NOW)
    comments = list(health.checkin_comments(program, period))
    assert [(c.comment, c.author.first_name, c.side) for c in comments] == [
        ("We never meet", "Bob", "resident"),
        ("Schedules never line up", "Eve", "resident"),
        ("Carol makes time for me", "Alice", "resident"),
    ]
    pgy1_only = health.program_period(program, pgy="PGY-2", now=NOW)
    assert list(health.checkin_comments(program, pgy1_only)) == []


# --- The page.


def _page(client, program, query=""):
    return client.get(f"/programs/{program.slug}/health/{query}")


def test_the_page_answers_who_needs_help(world, program, coordinator, client_for, frozen):
    response = _page(client_for(coordinator), program)
    assert response.status_code == 200
    body = response.content.decode()

    assert "Who needs help" in body
    assert "2 residents have no mentor at all" in body
    assert '<a href="/programs/im/pairings/?unpaired=career&amp;pgy=PGY-1">1 PGY-1 has no career mentor</a>' in body
    assert "1 PGY-2 has no career mentor" in body and "1 PGY-3 has no career mentor" in body
    assert '<a href="/programs/im/pairings/?stale=true">2 pairings have had no meeting in 60 days</a>' in body
    assert "2 residents asked for a new mentor and are still waiting" in body
    assert "1 mentor has more mentees than their capacity" in body
    # The people, named: the unpaired, the quiet pairings, the re-match requests.
    for name in ("Eve Evans", "Ivy Ingram", "Bob Brown", "Finn Fox", "Dave Diaz"):
        assert name in body
    # Headline figures: right now, then in the year.
    assert '<dt>Residents with a mentor</dt><dd>5 <span class="stat-of">of 7</span></dd>' in body
    assert "<dt>Median time to answer</dt><dd>42 hours</dd>" in body
    assert "<dt>Meetings per pairing per month</dt><dd>0.30</dd>" in body
    assert '<dt>Average check-in rating</dt><dd>3.6 <span class="stat-of">/ 5</span></dd>' in body
    assert "Fewer than 3 responses: hidden to protect anonymity." in body
    # Comments for the coordinator, without their ratings; the charts' data for the script.
    assert "We never meet" in body and 'id="health-charts"' in body
    assert 'src="/static/vendor/chart.umd.min.js" defer' in body and 'src="/static/js/health.js" defer' in body
    assert "<script>" not in body and 'style="' not in body


def test_the_page_filters_by_year_and_pgy(world, program, coordinator, client_for, frozen):
    body = _page(client_for(coordinator), program, "?academic_year=2025&pgy=PGY-1").content.decode()
    assert "In 2025–26" in body and "PGY-1 residents only." in body
    assert '<option value="2025" selected>2025–26</option>' in body
    assert "We never meet" not in body  # a 2026–27 comment

    # An unknown year or PGY year falls back to the defaults rather than failing.
    response = _page(client_for(coordinator), program, "?academic_year=1999&pgy=nonsense")
    assert response.status_code == 200 and "In 2026–27 so far" in response.content.decode()


def test_the_page_and_api_show_nothing_of_another_program(
    world, program, other_program, coordinator, other_coordinator, client_for, frozen
):
    body = _page(client_for(coordinator), program).content.decode()
    for secret in ("Olivia", "Zed", "Zimmer", "B-secret-comment", other_program.name):
        assert secret not in body
    data = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/").content.decode()
    comments = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/").content.decode()
    for secret in ("Olivia", "Zed", "Zimmer", "B-secret-comment"):
        assert secret not in data and secret not in comments

    # Program B's coordinator: A's page and API do not exist for them, and vice versa.
    assert _page(client_for(other_coordinator), program).status_code == 404
    assert api(other_coordinator).get(f"/api/v1/programs/{program.slug}/health/").status_code == 404
    assert api(other_coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/").status_code == 404
    assert _page(client_for(coordinator), other_program).status_code == 404
    # Their own page shows only B.
    own = _page(client_for(other_coordinator), other_program).content.decode()
    assert "B-secret-comment" in own and "We never meet" not in own


@pytest.mark.parametrize("who", ["resident", "other_resident", "attending", "outsider"])
def test_residents_and_mentors_never_see_the_page_or_the_comments(world, program, who, request, client_for, frozen):
    user = request.getfixturevalue(who)
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who == "outsider" else 403
    assert _page(client_for(user), program).status_code == refused
    assert api(user).get(f"/api/v1/programs/{program.slug}/health/").status_code == refused
    assert api(user).get(f"/api/v1/programs/{program.slug}/health/comments/").status_code == refused


def test_the_other_party_never_sees_a_check_in_comment(world, client_for):
    # Carol mentors Bob, who wrote "We never meet": her mentorship page does not show it.
    body = client_for(world.carol).get(f"/mentorships/{world.m2.pk}/").content.decode()
    assert "We never meet" not in body


def test_signed_out_visitors_are_sent_to_log_in(program, client):
    response = client.get(f"/programs/{program.slug}/health/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get(f"/api/v1/programs/{program.slug}/health/").status_code in (401, 403)


def test_links_to_the_page(program, coordinator, resident, client_for):
    client = client_for(coordinator)
    url = f"/programs/{program.slug}/health/"
    assert url in client.get("/programs/").content.decode()
    assert url in client.get(f"/programs/{program.slug}/roster/").content.decode()
    assert url in client.get("/dashboard/").content.decode()  # the program's card


def test_page_queries_do_not_grow_with_the_program(
    program, coordinator, client_for, frozen, django_assert_max_num_queries, world
):
    # Grow the program: 10 more residents, each with a mentor, a meeting, a request and a commented check-in.
    for i in range(10):
        r = _resident(program, f"Extra{i}", "Resident", "PGY-2")
        m = _mentor(program, f"Extra{i}", "Mentor", 2)
        pairing = _pair(r, m, program, "career", at(7, 5))
        _meeting(pairing, Meeting.Status.HELD, at(8, 5, 16))
        _request(r, m, program, MentorshipRequest.Status.ACCEPTED, at(7, 3), at(7, 4))
        _checkin(pairing, r, 4, at(9, 3), f"comment {i}")
    client = client_for(coordinator)
    # Budget (25, the same for 8 residents or 18: nothing is loaded per row):
    #   session, user, last_seen update, session save (+ savepoint pair)            6
    #   the program, the coordinator check                                           2
    #   filter choices: years with data, PGY years                                   2
    #   figures: active pairings, residents, mentor load, funnel counts, answer
    #            times, meetings by month, pairings in the year, re-match, check-ins  9
    #   comments: count, page                                                         2
    #   base.html: roles, mentee/mentor profile, unread notifications                 4
    with django_assert_max_num_queries(25):
        assert _page(client, program).status_code == 200


# --- The API.


def test_api_returns_the_same_figures(world, program, coordinator, frozen):
    response = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/")
    assert response.status_code == 200
    data = response.json()

    assert data["program"] == {"slug": program.slug, "name": program.name}
    assert (
        data["period"]["academic_year"] == 2026 and data["period"]["label"] == "2026–27" and data["period"]["pgy"] == ""
    )
    assert data["academic_years"] == [
        {"academic_year": 2026, "label": "2026–27"},
        {"academic_year": 2025, "label": "2025–26"},
    ]
    assert data["pgy_years"] == ["PGY-1", "PGY-2", "PGY-3"]
    total = data["coverage"]["total"]
    assert (total["residents"], total["without_mentor_count"]) == (7, 2)
    assert [p["full_name"] for p in total["without_mentor"]] == ["Eve Evans", "Ivy Ingram"]
    assert data["mentor_load"]["open_spots"] == 3 and data["mentor_load"]["mentors"][0]["status"] == "over"
    assert data["stale"]["count"] == 2 and data["stale"]["stale_after_days"] == 60
    assert data["stale"]["pairings"][0]["mentorship_id"] == world.m2.pk
    assert (data["rematch"]["requested"], data["rematch"]["waiting"]) == (1, 2)
    assert data["requests"]["sent"] == 7 and data["requests"]["median_answer_hours"] == 42.0
    assert data["meetings"]["held"] == 4 and data["meetings"]["per_pairing_month"] == pytest.approx(0.30236, abs=1e-5)
    assert data["satisfaction"]["overall"] == {
        "key": "all",
        "label": "All check-ins",
        "responses": 10,
        "average": 3.6,
        "hidden": False,
        "hidden_reason": "",
        "hidden_text": "",
    }
    research = data["satisfaction"]["by_kind"][1]
    assert (research["responses"], research["average"], research["hidden_reason"]) == (2, None, "few")
    assert data["satisfaction"]["distribution"] == [1, 1, 2, 3, 3]
    assert "We never meet" not in response.content.decode()  # comments have their own endpoint


def test_api_filters_and_refuses_unknown_ones(world, program, coordinator, frozen):
    data = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/?academic_year=2026&pgy=PGY-1").json()
    assert data["period"]["pgy"] == "PGY-1" and data["requests"]["sent"] == 3
    assert data["satisfaction"]["by_side"][0]["hidden_reason"] == "complement"

    bad = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/?academic_year=2019&pgy=PGY-9")
    assert bad.status_code == 400 and set(bad.json()) == {"academic_year", "pgy"}


def test_api_lists_comments_for_coordinators_without_ratings(world, program, coordinator, frozen):
    response = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    first = data["results"][0]
    assert (
        first["comment"] == "We never meet"
        and first["author"]["full_name"] == "Bob Brown"
        and first["side"] == "resident"
    )
    assert (
        first["mentorship_id"] == world.m2.pk and first["mentor"]["full_name"] == "Carol Chen" and "rating" not in first
    )

    last_year = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/?academic_year=2025").json()
    assert last_year["count"] == 0  # Alice's June check-in had no comment
