"""Typed wall-clock times read in the person's zone, with plain words for the daylight-saving
hours that do not exist or happen twice; weekly windows read on another person's clock."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from core.zones import ZonedDateTimeField, aware_in_zone, weekly_window_text


def _error(naive, zone):
    with pytest.raises(ValidationError) as caught:
        aware_in_zone(naive, zone)
    return caught.value.messages[0]


def test_a_time_in_the_spring_gap_is_refused_in_plain_words():
    message = _error(datetime(2026, 3, 29, 2, 30), "Europe/Madrid")
    assert message.startswith("2:30 am doesn't exist on March 29 in Europe/Madrid: clocks jump from 2:00 to 3:00.")
    # Los Angeles springs forward three weeks earlier, at its own 2 am.
    assert "March 8 in America/Los Angeles: clocks jump from 2:00 to 3:00" in _error(
        datetime(2026, 3, 8, 2, 0), "America/Los_Angeles"
    )


def test_a_repeated_hour_is_refused_naming_the_change():
    message = _error(datetime(2026, 11, 1, 1, 30), "America/Los_Angeles")
    assert message.startswith(
        "1:30 am happens twice on November 1 in America/Los Angeles: clocks go back from 2:00 to 1:00"
    )
    assert "clocks go back from 3:00 to 2:00" in _error(datetime(2026, 10, 25, 2, 30), "Europe/Madrid")


def test_times_around_the_change_are_read_with_the_offset_of_their_day():
    assert aware_in_zone(datetime(2026, 3, 29, 1, 59), "Europe/Madrid").astimezone(UTC) == datetime(
        2026, 3, 29, 0, 59, tzinfo=UTC
    )
    assert aware_in_zone(datetime(2026, 3, 29, 3, 0), "Europe/Madrid").astimezone(UTC) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_the_form_field_gives_the_plain_error_not_djangos():
    field = ZonedDateTimeField(zone="Europe/Madrid", input_formats=["%Y-%m-%dT%H:%M"])
    with pytest.raises(ValidationError) as caught:
        field.clean("2026-03-29T02:30")
    assert caught.value.messages == [
        "2:30 am doesn't exist on March 29 in Europe/Madrid: clocks jump from 2:00 to 3:00. Choose another time."
    ]
    assert field.clean("2026-03-29T09:00") == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # Winter: Madrid is 9 hours ahead of Los Angeles.
        (date(2026, 12, 4), "Tue 6–7 pm your time (Tue 9–10 am in Los Angeles)"),
        # Between the two springs forward (March 14 and March 28, 2027): 8 hours.
        (date(2027, 3, 16), "Tue 5–6 pm your time (Tue 9–10 am in Los Angeles)"),
        # Both on summer time: 9 hours again.
        (date(2027, 4, 5), "Tue 6–7 pm your time (Tue 9–10 am in Los Angeles)"),
        # Between the two autumn changes (Oct 31 and Nov 7, 2027): 8 hours.
        (date(2027, 11, 1), "Tue 5–6 pm your time (Tue 9–10 am in Los Angeles)"),
    ],
)
def test_a_weekly_window_is_read_on_the_viewers_clock_across_daylight_saving(today, expected):
    text = weekly_window_text(1, time(9), time(10), owner="America/Los_Angeles", viewer="Europe/Madrid", today=today)
    assert text == expected


def test_a_window_on_the_same_clock_names_no_zone():
    assert (
        weekly_window_text(1, time(9), time(10), owner="Europe/Madrid", viewer="Europe/Madrid", today=date(2027, 3, 16))
        == "Tue 9–10 am"
    )
