"""Wall-clock times typed by a person, read in their own time zone, and the plain-language
error when the clock never shows that time (a daylight-saving gap) or shows it twice (the
hour repeated when clocks go back).

Django's own form field says "… couldn't be interpreted in time zone …; it may be ambiguous
or it may not exist". ``aware_in_zone`` says which, and what the clocks do:
"2:30 am doesn't exist on March 29 in Europe/Madrid: clocks jump from 2:00 to 3:00."
``ZonedDateTimeField`` is a ``forms.DateTimeField`` that reads its input in a given zone
with these errors.
"""

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.bounds import Zone, as_zone


def zone_name(zone: Zone) -> str:
    """ "Europe/Madrid", "America/Los Angeles": the IANA name as people read it."""
    name = zone if isinstance(zone, str) else getattr(zone, "key", None) or str(zone)
    return name.replace("_", " ")


def clock_time(when: datetime) -> str:
    """ "2:30 am", "9 am", "6 pm": a wall-clock time as people say it."""
    hour = when.hour % 12 or 12
    suffix = "am" if when.hour < 12 else "pm"
    return f"{hour} {suffix}" if when.minute == 0 else f"{hour}:{when.minute:02d} {suffix}"


def _hm(when: datetime) -> str:
    return f"{when.hour}:{when.minute:02d}"


def _day(when: datetime) -> str:
    return f"{when:%B} {when.day}"


def _transition(naive: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The wall clock just before and just after the offset change at ``naive``: the clock
    reads the first, then jumps to the second (``2:00`` then ``3:00`` in a spring gap)."""
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(first, second) - timedelta(hours=3), max(first, second) + timedelta(hours=3)
    before = low.astimezone(tz).utcoffset()
    # Offsets change on a whole minute: bisect the minutes from low (old offset) to high (new).
    while high - low > timedelta(minutes=1):
        middle = low + timedelta(minutes=(high - low) // timedelta(minutes=1) // 2)
        if middle.astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    after = high.astimezone(tz).utcoffset()
    assert before is not None and after is not None
    moment = high.replace(tzinfo=None)
    return moment + before, moment + after


def aware_in_zone(naive: datetime, zone: Zone, *, field: str | None = None) -> datetime:
    """``naive`` (a wall-clock time) in ``zone``. Refuses, in plain words, a time the zone's
    clocks skip or show twice on a daylight-saving change."""
    if timezone.is_aware(naive):
        return naive
    tz = as_zone(zone)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    before, after = _transition(naive, tz)
    where = zone_name(zone if isinstance(zone, str) else tz)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        message = (
            f"{clock_time(naive)} doesn't exist on {_day(naive)} in {where}: "
            f"clocks jump from {_hm(before)} to {_hm(after)}. Choose another time."
        )
        code = "nonexistent_time"
    else:
        message = (
            f"{clock_time(naive)} happens twice on {_day(naive)} in {where}: "
            f"clocks go back from {_hm(before)} to {_hm(after)}. Choose a time outside that hour."
        )
        code = "ambiguous_time"
    raise ValidationError({field: message} if field else message, code=code)


class ZonedDateTimeField(forms.DateTimeField):
    """A date and time typed as the wall clock of ``zone`` (a zone or its IANA name)."""

    def __init__(self, *, zone: Zone, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zone = zone

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return aware_in_zone(value, self.zone)
        # Parse without Django's conversion (which raises its own vague message), then read
        # the wall clock in the zone.
        with timezone.override(UTC):
            parsed = super().to_python(value)
        return None if parsed is None else aware_in_zone(timezone.make_naive(parsed, UTC), self.zone)


def span_text(start: datetime, end: datetime) -> str:
    """ "Tue 6–7 pm", "Tue 11:30 am–12 pm", "Sun 11 pm–Mon 1 am": a span of wall-clock time."""
    start_day = f"{start:%a} "
    if start.date() != end.date():
        return f"{start_day}{clock_time(start)}–{end:%a} {clock_time(end)}"
    if (start.hour < 12) == (end.hour < 12):
        return f"{start_day}{clock_time(start).rsplit(' ', 1)[0]}–{clock_time(end)}"
    return f"{start_day}{clock_time(start)}–{clock_time(end)}"


def weekly_window_text(weekday: int, start: time, end: time, *, owner: Zone, viewer: Zone, today: date) -> str:
    """A weekly window of ``owner``'s (their wall clock) as ``viewer`` reads it, on the window's
    next date from ``today`` (so the offsets are the ones in force then, daylight saving
    included): "Tue 6–7 pm your time (Tue 9–10 am in Los Angeles)", or "Tue 9–10 am" when
    both clocks agree."""
    owner_tz, viewer_tz = as_zone(owner), as_zone(viewer)
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    local_start = datetime.combine(day, start, tzinfo=owner_tz)
    local_end = datetime.combine(day, end, tzinfo=owner_tz)
    if end <= start:  # a window running past midnight
        local_end += timedelta(days=1)
    theirs = span_text(local_start, local_end)
    mine = span_text(local_start.astimezone(viewer_tz), local_end.astimezone(viewer_tz))
    if mine == theirs and local_start.utcoffset() == local_start.astimezone(viewer_tz).utcoffset():
        return mine
    city = zone_name(owner if isinstance(owner, str) else owner_tz).rsplit("/", 1)[-1]
    return f"{mine} your time ({theirs} in {city})"


def current_offset_minutes(zone: Zone, *, now: datetime | None = None) -> int:
    """Minutes east of UTC that ``zone``'s clocks read at ``now``."""
    offset = (now or timezone.now()).astimezone(as_zone(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


# The zones most people in a US residency program live in, east to west, as they call them.
COMMON_US_ZONES = (
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Phoenix", "Arizona"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
)
COMMON_US_GROUP = "Common US time zones"
OTHER_ZONES_GROUP = "All other time zones"


@cache
def _known_zones() -> tuple[str, ...]:
    """Every IANA zone a person may choose (the same set as ``accounts.models.TIME_ZONE_CHOICES``)."""
    return tuple(sorted(tz for tz in zoneinfo.available_timezones() if "/" in tz))


def zone_choices(likely: Iterable[str | None] = ()) -> list:
    """Choices for a time-zone select, the likely ones first: ``likely`` (e.g. the program's or
    institution's zone, then the person's own) in that order, then the common US zones as one
    group, then every other zone A to Z. Each zone appears once; unknown or empty names in
    ``likely`` are skipped. The values are the same as the full A-to-Z list, so validating
    against either accepts the same input."""
    known = set(_known_zones())
    common = dict(COMMON_US_ZONES)

    def label(zone: str) -> str:
        return f"{common[zone]} ({zone_name(zone)})" if zone in common else zone_name(zone)

    first = [z for z in dict.fromkeys(likely) if z and z in known]
    us = [(z, label(z)) for z in common if z not in first and z in known]
    shown = {*first, *common}
    rest = [(z, zone_name(z)) for z in _known_zones() if z not in shown]
    return [*((z, label(z)) for z in first), (COMMON_US_GROUP, us), (OTHER_ZONES_GROUP, rest)]


__all__ = [
    "COMMON_US_ZONES",
    "ZonedDateTimeField",
    "aware_in_zone",
    "clock_time",
    "current_offset_minutes",
    "span_text",
    "weekly_window_text",
    "zone_choices",
    "zone_name",
    "zoneinfo",
]
