"""Serializer fields the API shares."""

import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# 00:00 to 23:59, seconds (always :00) optional: OpenAPI's ``format: time`` is RFC 3339's
# full-time, which needs a UTC offset, and a weekly window has none: it is on its owner's clock.
WALL_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:00)?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": WALL_CLOCK_PATTERN,
        "example": "09:30",
        "description": "A time of day on the person's own clock, in whole minutes: HH:MM (HH:MM:00 is read too).",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day in whole minutes, written ``HH:MM:00`` and read as ``HH:MM`` or ``HH:MM:00``.
    Seconds and fractions are refused: nothing in a weekly window is finer than a minute."""

    default_error_messages = {"whole_minutes": "Give a time in whole minutes, as HH:MM (09:30)."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%H:%M:%S")
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S"])
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> datetime.time:
        time = super().to_internal_value(value)
        if time.second or time.microsecond:
            self.fail("whole_minutes")
        return time
