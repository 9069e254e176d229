"""Small template helpers for requests and the mentor cards that lead to them."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()

# last_seen is written every few minutes (accounts.middleware), so anything closer is "now".
JUST_NOW = timedelta(minutes=10)


@register.filter
def active_ago(last_seen, now=None):
    """ "Active 3 days ago" from ``User.last_seen``: the largest unit only, as people say it."""
    if last_seen is None or last_seen == "":
        return "Not active yet"
    now = now or timezone.now()
    if now - last_seen < JUST_NOW:
        return "Active just now"
    return f"Active {timesince(last_seen, now, depth=1)} ago"
