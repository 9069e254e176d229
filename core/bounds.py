"""How far back and ahead people may date what they write, and how a far-off stored date
is read without crashing.

Writing. Every date or time a person types is checked against one of the windows below,
by the form (an error beside the field), the API serializer (a 400 naming the field) and
the service, the last line: a task or a future client calling the service is refused too.
A window is counted in days of the person's own time zone, both ends included.

- ``SCHEDULED``: proposed times, the confirmed start, new times, and ranking deadlines: from
  today to two years ahead. Days, not instants: a time earlier today that has passed is the
  services' own refusal (they compare with now). Two years covers the furthest a program
  plans (next year's match, a meeting around a rotation a year out); anything later is a
  typo or an attack.
- ``PLANNED_DAY``: due dates of goals and busy blocks: a year back to two years ahead. Back,
  because a goal set at last month's meeting is written down late and an ICU month has often
  begun when it is entered; a year, because nothing reads older ones (suggestions and overdue
  goals look forward). A goal's due date kept unchanged on an edit is not checked again.

Reading. Rows written before these bounds (or by hand) may hold any instant up to
9999-12-31 23:59 UTC, which no zone east of UTC, nor a duration added to it, can hold.
``localize`` and ``shift`` (and the ``in_zone`` template filter) give such a row back as
stored instead of raising ``OverflowError``.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NoReturn

from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_INSTANT = datetime.min.replace(tzinfo=UTC)
LATEST_INSTANT = datetime.max.replace(tzinfo=UTC)
# An instant as a person reads it: "Mon 15 Mar 2027, 13:00 EDT".
TIME_FORMAT = "%a {day} %b %Y, %H:%M %Z"  # the day unpadded ("Fri 4 Dec"), as the pages' "D j M"

# A zone, or its IANA name as a profile stores it.
Zone = tzinfo | str


def as_zone(zone: Zone) -> tzinfo:
    """A tzinfo from a zone or a zone name; the site's zone for a name that is no zone."""
    if isinstance(zone, tzinfo):
        return zone
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return timezone.get_default_timezone()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year that has none
        return day.replace(year=day.year + years, day=28)


def _day(day: date) -> str:
    return format_day(day)  # one way to write a day, in messages as on the pages


@dataclass(frozen=True)
class Window:
    """From ``days_back`` days before the person's today to ``years_ahead`` years after it."""

    days_back: int
    years_ahead: int

    def days(self, zone: Zone, *, now: datetime | None = None) -> tuple[date, date]:
        """The first and the last allowed day, in ``zone``."""
        today = (now or timezone.now()).astimezone(as_zone(zone)).date()
        return today - timedelta(days=self.days_back), _years_after(today, self.years_ahead)

    def message(self, zone: Zone, *, now: datetime | None = None) -> str:
        first, last = self.days(zone, now=now)
        if self.days_back == 0:
            return f"Choose a time from today to {_day(last)}."
        return f"Choose a day from {_day(first)} to {_day(last)}."

    def check_day(self, day: date | None, *, zone: Zone, field: str | None = None, now: datetime | None = None) -> None:
        """Refuse ``day`` (None passes) outside the window; the error names ``field`` if given."""
        first, last = self.days(zone, now=now)
        if day is not None and not first <= day <= last:
            _refuse(self.message(zone, now=now), field)

    def check_instant(
        self, when: datetime | None, *, zone: Zone, field: str | None = None, now: datetime | None = None
    ) -> None:
        """Refuse an aware ``when`` (None passes) outside the window's days in ``zone``. Aware
        datetimes compare without converting, so even year 9999 in any offset is refused."""
        if when is None:
            return
        tz = as_zone(zone)
        first, last = self.days(tz, now=now)
        begin = datetime.combine(first, time.min, tzinfo=tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
        if when < begin and self.days_back == 0:
            _refuse(f"{format_instant(when, tz)} has already passed.", field)
        if not begin <= when < end:
            _refuse(self.message(tz, now=now), field)

    def html_days(self, zone: Zone) -> dict[str, str]:
        """``min``/``max`` for a ``type="date"`` input, so the browser's picker agrees."""
        first, last = self.days(zone)
        return {"min": first.isoformat(), "max": last.isoformat()}

    def html_times(self, zone: Zone) -> dict[str, str]:
        """``min``/``max`` for a ``type="datetime-local"`` input."""
        first, last = self.days(zone)
        return {"min": f"{first.isoformat()}T00:00", "max": f"{last.isoformat()}T23:59"}


def _refuse(message: str, field: str | None) -> NoReturn:
    raise ValidationError({field: message} if field else message, code="out_of_bounds")


SCHEDULED = Window(days_back=0, years_ahead=2)
PLANNED_DAY = Window(days_back=365, years_ahead=2)


# --- Reading what is stored.


def localize(when: datetime, zone: Zone) -> datetime:
    """``when`` on ``zone``'s clock, or as stored (UTC) when that clock would pass year 9999."""
    try:
        return when.astimezone(as_zone(zone))
    except OverflowError:
        return when


def format_instant(when: datetime, zone: Zone) -> str:
    """``when`` as a person in ``zone`` reads it, with the zone's abbreviation."""
    local = localize(when, zone)
    return local.strftime(TIME_FORMAT.replace("{day}", str(local.day)))


def format_day(day: date) -> str:
    """A date as people read it everywhere, "5 Dec 2026" (the pages' ``day`` filter says the same)."""
    return f"{day.day} {day:%b} {day.year}"


def shift(when: datetime, delta: timedelta) -> datetime:
    """``when + delta``, stopping at the first or last instant a datetime can hold."""
    try:
        return when + delta
    except OverflowError:
        return LATEST_INSTANT if delta > timedelta(0) else EARLIEST_INSTANT


# The largest id a PostgreSQL bigint (and SQLite's integer) holds: an id past it in a request is
# refused as invalid before a query would overflow (a 500 on SQLite).
MAX_ID = 2**63 - 1
