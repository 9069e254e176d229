"""``{{ when|in_zone:user.time_zone|date:"…" }}``: Django's ``timezone`` filter, except that
an instant no clock of that zone can show (year 9999, east of UTC; see ``core.bounds``)
comes back as stored, in UTC, instead of failing the page. Use it for times people wrote:
meeting times and ranking deadlines.

``{{ user.time_zone|zone_name }}``: a zone as people read it, "America/New York", the same
everywhere a zone is named (``core.zones.zone_name``; the time zone picker's labels too).

``{% weekly_windows_for windows owner=person viewer=user as lines %}``: a person's weekly
availability on the viewer's clock, their own named beside it."""

from datetime import UTC

from django import template
from django.templatetags.tz import do_timezone
from django.utils import timezone

from core.zones import weekly_window_text
from core.zones import zone_name as _zone_name

register = template.Library()


@register.filter
def in_zone(value, zone):
    try:
        return do_timezone(value, zone)
    except OverflowError:
        return do_timezone(value, UTC)


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
