"""``{{ when|in_zone:user.time_zone|date:"…" }}``: Django's ``timezone`` filter, except that
an instant no clock of that zone can show (year 9999, east of UTC; see ``core.bounds``)
comes back as stored, in UTC, instead of failing the page. Use it for times people wrote:
meeting times and ranking deadlines."""

from datetime import UTC

from django import template
from django.templatetags.tz import do_timezone

register = template.Library()


@register.filter
def in_zone(value, zone):
    try:
        return do_timezone(value, zone)
    except OverflowError:
        return do_timezone(value, UTC)
