"""Meeting-time suggestions: each person's weekly windows in their own time zone, on
each concrete date (so daylight-saving changes land right), minus busy days and
confirmed meetings, never in the past, spread over different days."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import AvailabilityWindow, BusyBlock
from core.bounds import format_day
from matching.models import Meeting
from matching.scheduling import suggest_slots, why_no_slots
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

MONDAY = AvailabilityWindow.Weekday.MONDAY


def _us_dst_start(year: int) -> date:
    """The second Sunday of March: US clocks go forward."""
    first = date(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


# Next year's US change, so these dates stay in the future whenever the suite runs.
DST = _us_dst_start(timezone.now().year + 1)
MONDAY_BEFORE, MONDAY_AFTER = DST - timedelta(days=6), DST + timedelta(days=1)


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _window(user, weekday, start, end):
    AvailabilityWindow.objects.create(user=user, weekday=weekday, start=time(*start), end=time(*end))


@pytest.fixture
def pair(resident, attending):
    """Alice in New York; Carol in London, whose clocks change two weeks after New York's."""
    attending.time_zone = "Europe/London"
    attending.save(update_fields=["time_zone"])
    _window(resident, MONDAY, (10, 0), (12, 0))  # New York
    _window(attending, MONDAY, (14, 0), (16, 0))  # London
    return resident, attending


def test_windows_are_read_in_each_persons_zone_on_each_date_across_the_dst_change(pair):
    resident, attending = pair
    slots = suggest_slots(mentee=resident, mentor=attending, start=_utc(MONDAY_BEFORE, 0), days=14, duration_minutes=60)
    # Before: New York 10–12 EST is 15–17 UTC, London 14–16 GMT is 14–16 UTC: 15:00 only.
    # After New York's change: 14–16 UTC on both sides, so 14:00 and 15:00 (no overlap).
    assert slots == [_utc(MONDAY_BEFORE, 15), _utc(MONDAY_AFTER, 14), _utc(MONDAY_AFTER, 15)]
    assert all(slot.tzinfo == UTC for slot in slots)


def test_busy_days_are_skipped_in_the_persons_own_zone(pair):
    resident, attending = pair
    BusyBlock.objects.create(user=resident, start_date=MONDAY_AFTER, end_date=MONDAY_AFTER, label="Night float")
    slots = suggest_slots(mentee=resident, mentor=attending, start=_utc(MONDAY_BEFORE, 0), days=14, duration_minutes=60)
    assert slots == [_utc(MONDAY_BEFORE, 15)]


def test_confirmed_meetings_of_either_person_are_taken_out(pair, program, other_resident):
    resident, attending = pair
    busy_with_bob = MentorshipFactory(mentee=other_resident, mentor=attending, program=program)
    Meeting.objects.create(
        mentorship=busy_with_bob,
        proposed_by=other_resident,
        status=Meeting.Status.CONFIRMED,
        start=_utc(MONDAY_AFTER, 14),
        duration_minutes=60,
    )
    slots = suggest_slots(mentee=resident, mentor=attending, start=_utc(MONDAY_BEFORE, 0), days=14, duration_minutes=60)
    assert slots == [_utc(MONDAY_BEFORE, 15), _utc(MONDAY_AFTER, 15)]


def test_picks_are_spread_over_different_days_first(resident, attending):
    for weekday in range(7):
        _window(resident, weekday, (8, 0), (18, 0))
        _window(attending, weekday, (8, 0), (18, 0))
    start = _utc(MONDAY_BEFORE, 0)
    slots = suggest_slots(mentee=resident, mentor=attending, start=start, days=7, count=3)
    # Both in New York (EST, UTC-5): 08:00 local is 13:00 UTC, on three different days.
    assert slots == [_utc(MONDAY_BEFORE + timedelta(days=n), 13) for n in range(3)]


def test_never_in_the_past_and_deterministic(resident, attending):
    for weekday in range(7):
        _window(resident, weekday, (0, 0), (23, 30))
        _window(attending, weekday, (0, 0), (23, 30))
    now = timezone.now()
    first = suggest_slots(mentee=resident, mentor=attending, start=now - timedelta(days=7), days=8)
    again = suggest_slots(mentee=resident, mentor=attending, start=now - timedelta(days=7), days=8)
    assert first == again
    assert len(first) == 3
    assert all(slot > now for slot in first)


def test_no_shared_time_means_no_suggestions(resident, attending):
    _window(resident, MONDAY, (9, 0), (10, 0))
    _window(attending, AvailabilityWindow.Weekday.TUESDAY, (9, 0), (10, 0))
    assert suggest_slots(mentee=resident, mentor=attending, start=_utc(MONDAY_BEFORE, 0)) == []


class TestWhyNoSlots:
    """When nothing is suggested, the page says why, most basic reason first."""

    def _same_zone(self, resident, attending):
        attending.time_zone = resident.time_zone
        attending.save(update_fields=["time_zone"])

    def test_weekly_availability_that_never_overlaps(self, resident, attending):
        self._same_zone(resident, attending)
        _window(resident, MONDAY, (9, 0), (10, 0))
        _window(attending, MONDAY, (10, 0), (11, 0))  # touching is not overlapping
        assert why_no_slots(viewer=resident, other=attending, start=timezone.now()) == [
            f"Your weekly availability and {attending.first_name}'s don't overlap in the next 14 days."
        ]

    def test_an_overlap_shorter_than_the_meeting(self, resident, attending):
        self._same_zone(resident, attending)
        _window(resident, MONDAY, (9, 0), (10, 45))
        _window(attending, MONDAY, (10, 0), (12, 0))
        start = timezone.now()
        assert suggest_slots(mentee=resident, mentor=attending, start=start, duration_minutes=60) == []
        assert why_no_slots(viewer=resident, other=attending, start=start, duration_minutes=60) == [
            "The longest time you are both free is 45 minutes: choose a shorter length."
        ]

    def test_busy_blocks_are_named_the_other_persons_without_their_label(self, resident, attending):
        self._same_zone(resident, attending)
        for day in AvailabilityWindow.Weekday.values:
            _window(resident, day, (9, 0), (10, 0))
            _window(attending, day, (9, 0), (10, 0))
        today = timezone.localdate(timezone=ZoneInfo(resident.time_zone))
        BusyBlock.objects.create(user=resident, start_date=today, end_date=today + timedelta(days=7), label="ICU")
        BusyBlock.objects.create(
            user=attending, start_date=today + timedelta(days=8), end_date=today + timedelta(days=20), label="Leave"
        )
        start = timezone.now()
        assert suggest_slots(mentee=resident, mentor=attending, start=start, duration_minutes=30) == []
        reasons = why_no_slots(viewer=resident, other=attending, start=start)
        assert reasons == [
            f"You are away {format_day(today)} – {format_day(today + timedelta(days=7))} (ICU).",
            f"{attending.first_name} is away {format_day(today + timedelta(days=8))} – "
            f"{format_day(today + timedelta(days=20))}.",
        ]
        assert "Leave" not in " ".join(reasons)

    def test_the_longest_free_time_counts_away_days(self, resident, attending):
        # Mondays 9–12 together, other days 9–10; Alice is away every Monday: 60 minutes is
        # the longest they have left, not the three Monday hours.
        self._same_zone(resident, attending)
        for person in (resident, attending):
            for day in AvailabilityWindow.Weekday.values:
                _window(person, day, (9, 0), (12, 0) if day == MONDAY else (10, 0))
        today = timezone.localdate(timezone=ZoneInfo(resident.time_zone))
        for k in range(16):
            if (today + timedelta(days=k)).weekday() == 0:
                day = today + timedelta(days=k)
                BusyBlock.objects.create(user=resident, start_date=day, end_date=day, label="Clinic")
        start = timezone.now()
        assert suggest_slots(mentee=resident, mentor=attending, start=start, duration_minutes=90) == []
        reasons = why_no_slots(viewer=resident, other=attending, start=start, duration_minutes=90)
        assert reasons[-1] == "The longest time you are both free is 60 minutes: choose a shorter length."
        assert all(r.startswith("You are away ") and r.endswith("(Clinic).") for r in reasons[:-1])
