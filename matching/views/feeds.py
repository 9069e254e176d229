"""A person's calendar: the secret feed their calendar app subscribes to, and the buttons on
their profile that turn it on, give it a new address or turn it off.

The feed needs no sign-in: its address is the secret (calendar apps cannot log in). An
unknown or revoked token answers 404, the same as a page that never existed; the token is
compared in constant time after the lookup. Responses are ``Cache-Control: private`` (a
shared cache must never hold one person's meetings) with an ETag and Last-Modified so that
calendar apps polling every hour mostly get 304.
"""

import hashlib
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.crypto import constant_time_compare
from django.utils.http import http_date
from django.views.decorators.http import require_GET, require_POST

from ..ics import feed_ics, feed_meetings
from ..models import CalendarFeed, Meeting
from ..services.calendar_feeds import calendar_feed_disable, calendar_feed_enable, calendar_feed_regenerate

# Past meetings stay in the feed this long; older ones drop out of it.
FEED_HISTORY = timedelta(days=365)
# ``last_fetched_at`` is written at most this often: an hourly poll is not a write per poll.
FETCH_STAMP_EVERY = timedelta(minutes=30)


def feed_meetings_of(user, *, now=None):
    """The meetings of ``user``'s own mentorships the feed may list (``ics.feed_meetings``
    picks which): not a coordinator's view of other people's meetings."""
    now = now or timezone.now()
    party = Q(mentorship__mentee=user) | Q(mentorship__mentor=user)
    recent = Q(start__isnull=True) | Q(start__gte=now - FEED_HISTORY)
    meetings = (
        Meeting.objects.filter(party, recent)
        .select_related("mentorship__mentee", "mentorship__mentor", "proposed_by")
        .prefetch_related("slots")
        .order_by("start", "id")
    )
    return feed_meetings(meetings, now=now)


@require_GET
def calendar_feed(request, token):
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not constant_time_compare(feed.token, token) or not feed.user.is_active:
        raise Http404("No such calendar.")
    meetings = feed_meetings_of(feed.user)
    body = feed_ics(meetings, name=f"MentorMatch: {feed.user.full_name}")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    changed = Meeting.objects.filter(pk__in=[m.pk for m in meetings]).aggregate(at=Max("updated_at"))["at"]
    last_modified = max(filter(None, [changed, feed.created_at]))
    now = timezone.now()
    if feed.last_fetched_at is None or feed.last_fetched_at < now - FETCH_STAMP_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    response = get_conditional_response(request, etag=etag, last_modified=int(last_modified.timestamp()))
    if response is None:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="mentormatch.ics"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified.timestamp())
    response["Cache-Control"] = "private, max-age=900"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _change_own_feed(request, change, done: str):
    """The profile's feed buttons: ``change`` the signed-in person's own feed (no id is sent,
    so nobody else's can be named), say what happened, and go back to the feed's card."""
    change(user=request.user)
    messages.success(request, done)
    return redirect(f"{reverse('accounts:profile')}#calendar-feed")


@login_required
@require_POST
def calendar_feed_enable_view(request):
    return _change_own_feed(
        request, calendar_feed_enable, "Your calendar feed is on: copy its address into your calendar app."
    )


@login_required
@require_POST
def calendar_feed_regenerate_view(request):
    return _change_own_feed(
        request, calendar_feed_regenerate, "Your calendar feed has a new address; the old one no longer works."
    )


@login_required
@require_POST
def calendar_feed_disable_view(request):
    return _change_own_feed(request, calendar_feed_disable, "Your calendar feed is off; its address no longer works.")


urlpatterns = [
    path("feed/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("profile/calendar-feed/on/", calendar_feed_enable_view, name="calendar-feed-enable"),
    path("profile/calendar-feed/regenerate/", calendar_feed_regenerate_view, name="calendar-feed-regenerate"),
    path("profile/calendar-feed/off/", calendar_feed_disable_view, name="calendar-feed-disable"),
]
