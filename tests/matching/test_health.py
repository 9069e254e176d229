"""Program health's figures (matching/health.py), each against a value worked out by hand.

The fixed world, every person and date of it, is described in tests/matching/health_world.py."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Membership, MentorProfile, User
from matching import health
from matching.models import ConflictOfInterest, EvaluatorRole
from tests.matching.health_world import NOW, _checkin, _pair, at

pytestmark = pytest.mark.django_db


MONTH_DAYS = 365.25 / 12


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
        ("Pia Park", 0, 2, "closed"),  # not accepting: not "full", not "no mentees yet"
        ("Ned Nash", 0, 3, "idle"),
    ]
    assert (load.capacity, load.active, load.open_spots, load.at_or_over_capacity) == (9, 5, 3, 3)
    assert [(b.key, b.count) for b in load.bands] == [
        ("idle", 1),
        ("open", 0),
        ("full", 2),
        ("closed", 1),
        ("zero", 0),
        ("over", 1),
        ("kept-apart", 0),
    ]
    assert (load.kept_apart, load.kept_apart_spots) == (0, 0)


def test_a_capacity_of_zero_is_its_own_band_rather_than_full(world, program):
    MentorProfile.objects.filter(user__last_name="Nash").update(capacity=0)
    load = health.program_health(program, now=NOW).load
    ned = next(m for m in load.mentors if m.mentor.full_name == "Ned Nash")
    assert (ned.status, ned.status_label, ned.reason_label) == ("zero", "Capacity 0", "Capacity 0")
    assert (load.open_spots, load.at_or_over_capacity, load.band_count("closed"), load.band_count("zero")) == (
        0,
        3,
        1,
        1,
    )


def test_an_evaluators_spots_are_not_open_to_the_programs_residents(world, program, other_program, coordinator):
    ned = User.objects.get(last_name="Nash")
    # An evaluator role in another program keeps nobody of this one apart.
    EvaluatorRole.objects.create(program=other_program, user=ned, role=EvaluatorRole.Role.CCC_MEMBER)
    assert health.program_health(program, now=NOW).load.open_spots == 3

    EvaluatorRole.objects.create(program=program, user=ned, role=EvaluatorRole.Role.PROGRAM_DIRECTOR)
    load = health.program_health(program, now=NOW).load

    row = next(m for m in load.mentors if m.mentor.full_name == "Ned Nash")
    assert (row.kept_apart, row.free_spots, row.open_spots) == (health.KEPT_APART_EVALUATOR, 3, 0)
    assert (load.open_spots, load.kept_apart, load.kept_apart_spots) == (0, 1, 3)


def test_a_mentor_kept_apart_from_every_resident_has_no_open_spot(world, program):
    ned = User.objects.get(last_name="Nash")
    residents = list(
        User.objects.filter(memberships__program=program, memberships__role=Membership.Role.RESIDENT, is_active=True)
    )
    for mentee in residents[1:]:
        ConflictOfInterest.objects.create(program=program, mentee=mentee, mentor=ned, reason="family")
    # One resident may still have him: his spots stay open.
    assert health.program_health(program, now=NOW).load.open_spots == 3

    ConflictOfInterest.objects.create(program=program, mentee=residents[0], mentor=ned, reason="family")
    load = health.program_health(program, now=NOW).load
    assert next(m for m in load.mentors if m.mentor.full_name == "Ned Nash").kept_apart == health.KEPT_APART_CONFLICTS
    assert (load.open_spots, load.kept_apart_spots) == (0, 3)


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
