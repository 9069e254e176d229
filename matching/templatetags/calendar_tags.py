"""The calendar pieces other apps' templates show: a person's feed card (on their profile,
``accounts/profile.html``) and a meeting's "Add to Google Calendar / Outlook" links."""

from django import template

from ..ics import add_to_calendar_links
from ..models import CalendarFeed
from ..services.calendar_feeds import feed_urls

register = template.Library()


@register.inclusion_tag("matching/calendar/_feed_card.html", takes_context=True)
def calendar_feed_card(context, user):
    feed = CalendarFeed.objects.filter(user=user).first()
    return {
        "feed": feed,
        "urls": feed_urls(feed) if feed else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def meeting_calendar_links(meeting) -> dict[str, str]:
    return add_to_calendar_links(meeting)
