"""``scheduling.outside_weekly_availability``: whose weekly windows a meeting falls outside,
each person read in their own time zone on that very date."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from accounts.models import AvailabilityWindow
from matching.scheduling import outside_weekly_availability

pytestmark = pytest.mark.django_db


def _first_monday_after_us_spring_change() -> date:
    # US clocks go forward on the second Sunday of March.
    march = date(datetime.now(UTC).year + 1, 3, 1)
    second_sunday = march + timedelta(days=(6 - march.weekday()) % 7 + 7)
    return second_sunday + timedelta(days=1)


def test_a_window_is_read_with_the_offset_of_that_date(resident):
    monday = _first_monday_after_us_spring_change()
    AvailabilityWindow.objects.create(user=resident, weekday=0, start=time(9), end=time(10))
    nine_edt = datetime.combine(monday, time(13), tzinfo=UTC)  # 9 am in New York (EDT, UTC-4)
    ten_edt = datetime.combine(monday, time(14), tzinfo=UTC)  # 10 am EDT; 9 am had it been EST
    outside = outside_weekly_availability([nine_edt, ten_edt], duration_minutes=30, people=[resident])
    assert outside == {ten_edt: [resident]}


def test_adjacent_windows_hold_a_meeting_across_them(resident):
    monday = _first_monday_after_us_spring_change()
    AvailabilityWindow.objects.create(user=resident, weekday=0, start=time(9), end=time(10))
    AvailabilityWindow.objects.create(user=resident, weekday=0, start=time(10), end=time(11))
    nine_thirty = datetime.combine(monday, time(13, 30), tzinfo=UTC)
    assert outside_weekly_availability([nine_thirty], duration_minutes=60, people=[resident]) == {}


def test_each_person_in_their_own_zone_and_nobody_without_windows(resident, attending, other_attending):
    monday = _first_monday_after_us_spring_change()
    attending.time_zone = "Europe/Madrid"  # still on winter time that Monday: UTC+1
    attending.save(update_fields=["time_zone"])
    for person in (resident, attending):
        AvailabilityWindow.objects.create(user=person, weekday=0, start=time(9), end=time(17))
    # 10 am in New York is 3 pm in Madrid: both free. 1 pm in New York is 6 pm in Madrid.
    ten = datetime.combine(monday, time(14), tzinfo=UTC)
    one = datetime.combine(monday, time(17), tzinfo=UTC)
    outside = outside_weekly_availability(
        [ten, one], duration_minutes=30, people=[resident, attending, other_attending]
    )
    assert outside == {one: [attending]}
