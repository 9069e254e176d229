"""A person's secret calendar feed (``webcal://…/feed/<token>.ics``): turn it on, make a new
address (the old one stops working at once), turn it off.

Only the person themselves changes their feed: the functions take ``user`` and act on that
user's row, so there is nobody else's feed to reach. Each change locks the user's row (two
clicks on "Regenerate" make one new address each, in turn, never a unique-key error) and is
audited without the token: the trail must not hold a working secret.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from audit.services import audit_log
from core.locking import locked

from ..models import CalendarFeed

# 32 random bytes: 43 URL-safe characters, well within the column's 64.
TOKEN_BYTES = 32


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_urls(feed: CalendarFeed) -> dict[str, str]:
    """The feed's https address (for copying into Google Calendar's "From URL") and its
    webcal:// twin (which opens the calendar app and subscribes)."""
    https = f"{settings.SITE_URL}{reverse('matching:calendar-feed', args=[feed.token])}"
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


def calendar_feed_of(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


@transaction.atomic
def calendar_feed_enable(*, user: User) -> CalendarFeed:
    """Turn the feed on; a feed already on keeps its address."""
    locked(User.objects).get(pk=user.pk)
    feed = calendar_feed_of(user)
    if feed is not None:
        return feed
    feed = CalendarFeed.objects.create(user=user, token=_new_token())
    audit_log(actor=user, action="calendar_feed.enable", obj=feed, after={"user": user.pk})
    return feed


@transaction.atomic
def calendar_feed_regenerate(*, user: User) -> CalendarFeed:
    """A new secret address; the old one answers 404 from now on."""
    locked(User.objects).get(pk=user.pk)
    feed = calendar_feed_of(user)
    if feed is None:
        return calendar_feed_enable(user=user)
    feed.token = _new_token()
    feed.last_fetched_at = None
    feed.save(update_fields=["token", "last_fetched_at"])
    audit_log(actor=user, action="calendar_feed.regenerate", obj=feed, after={"user": user.pk})
    return feed


@transaction.atomic
def calendar_feed_disable(*, user: User) -> bool:
    """Turn the feed off; False if it was off."""
    locked(User.objects).get(pk=user.pk)
    feed = calendar_feed_of(user)
    if feed is None:
        return False
    audit_log(actor=user, action="calendar_feed.disable", obj=feed, before={"user": user.pk})
    feed.delete()
    return True
