"""How every page and e-mail shows a date or a time to a person: one rule, three filters.

``{{ when|moment }}``: an instant with its zone, "Sat 5 Dec 2026, 14:30 EST", on the active
zone's clock (the viewer's on a page, the recipient's in an e-mail); ``{{ when|moment:person.time_zone }}``
on another person's clock. ``{{ when|day }}``: a date, "5 Dec 2026" (an instant's date on the
active zone's clock; a date as it is). ``{{ when|clock }}``: the time alone, "14:30 EST", beside
a ``day``. The same words as ``core.bounds.format_instant`` in messages the services write.
An instant no clock of the zone can show (year 9999, east of UTC; see ``core.bounds``) is
shown as stored, in UTC, instead of failing the page. Machine-readable dates (``datetime=``
attributes, ``Y-m-d`` in links, CSV) keep Django's ``|date:"c"`` / ``|date:"Y-m-d"``.

``{% with deadline=run.ranking_deadline|in_zone:user.time_zone %}``: Django's ``timezone``
filter, except that an instant no clock of that zone can show comes back as stored, in UTC,
instead of failing the page; then ``{{ deadline|date:"c" }}`` for the ``datetime=`` attribute
and ``{{ deadline|moment }}`` for people.

``{{ user.time_zone|zone_name }}``: a zone as people read it, "America/New York", the same
everywhere a zone is named (``core.zones.zone_name``; the time zone picker's labels too).

``{% weekly_windows_for windows owner=person viewer=user as lines %}``: a person's weekly
availability on the viewer's clock, their own named beside it."""

from datetime import UTC, date, datetime

from django import template
from django.templatetags.tz import do_timezone
from django.utils import timezone

from core.bounds import Zone, as_zone, format_day, format_instant, localize
from core.zones import weekly_window_text
from core.zones import zone_name as _zone_name

register = template.Library()


@register.filter
def in_zone(value, zone):
    try:
        return do_timezone(value, zone)
    except OverflowError:
        return do_timezone(value, UTC)


def _local(value: datetime, zone: Zone | None) -> datetime:
    """``value`` on ``zone``'s clock (the active zone's by default); a naive value as it is."""
    if timezone.is_naive(value):
        return value
    return localize(value, as_zone(zone) if zone else timezone.get_current_timezone())


@register.filter
def moment(value, zone=None):
    """ "Sat 5 Dec 2026, 14:30 EST"."""
    if not isinstance(value, datetime):
        return ""
    if timezone.is_naive(value):
        return f"{value:%a} {value.day} {value:%b} {value.year}, {value:%H:%M}"
    return format_instant(value, as_zone(zone) if zone else timezone.get_current_timezone())


@register.filter
def day(value, zone=None):
    """ "5 Dec 2026": a date, or an instant's date on the zone's clock."""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    if not isinstance(value, date):
        return ""
    return format_day(value)


@register.filter
def clock(value, zone=None):
    """ "14:30 EST": an instant's time on the zone's clock, with the zone's abbreviation."""
    if not isinstance(value, datetime):
        return ""
    local = _local(value, zone)
    return f"{local:%H:%M %Z}".strip()


@register.filter
def zone_name(zone):
    return _zone_name(zone) if zone else ""


@register.simple_tag
def weekly_windows_for(windows, *, owner, viewer):
    """``owner``'s weekly windows as ``viewer`` reads them, one line each, on each window's
    next date in the viewer's today: "Tue 6–7 pm your time (Tue 9–10 am in Los Angeles)"."""
    today = timezone.localdate(timezone=viewer.zone)
    return [
        weekly_window_text(w.weekday, w.start, w.end, owner=owner.time_zone, viewer=viewer.time_zone, today=today)
        for w in windows
    ]
