"""API for the signed-in person's calendar feed: read its address, turn it on, give it a
new address (the old one stops working), turn it off. The feed itself is the page
``/feed/<token>.ics`` (matching/views/feeds.py): calendar apps cannot send API tokens."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from ..services.calendar_feeds import (
    calendar_feed_disable,
    calendar_feed_enable,
    calendar_feed_of,
    calendar_feed_regenerate,
    feed_urls,
)


class CalendarFeedSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(read_only=True)
    url = serializers.CharField(
        read_only=True, allow_null=True, help_text="The secret https address; null while the feed is off."
    )
    webcal_url = serializers.CharField(
        read_only=True, allow_null=True, help_text="The same address as webcal://, which opens a calendar app."
    )
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_fetched_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When a calendar last read it (to the half hour)."
    )


def _state(feed) -> dict:
    if feed is None:
        return {"enabled": False, "url": None, "webcal_url": None, "created_at": None, "last_fetched_at": None}
    urls = feed_urls(feed)
    return {
        "enabled": True,
        "url": urls["https"],
        "webcal_url": urls["webcal"],
        "created_at": feed.created_at,
        "last_fetched_at": feed.last_fetched_at,
    }


@extend_schema(tags=["me"])
class CalendarFeedApi(generics.GenericAPIView):
    """Your calendar feed. POST turns it on (keeps the address if it is on); DELETE turns it
    off and the address answers 404 from then on."""

    serializer_class = CalendarFeedSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(
        summary="Your calendar feed: on or off, and its secret address", responses={200: CalendarFeedSerializer}
    )
    def get(self, request):
        return Response(CalendarFeedSerializer(_state(calendar_feed_of(request.user))).data)

    @extend_schema(
        summary="Turn your calendar feed on (an address already on is kept)",
        request=None,
        responses={200: CalendarFeedSerializer},
    )
    def post(self, request):
        return Response(CalendarFeedSerializer(_state(calendar_feed_enable(user=request.user))).data)

    @extend_schema(summary="Turn your calendar feed off: its address answers 404 from then on", responses={204: None})
    def delete(self, request):
        calendar_feed_disable(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["me"],
    summary="A new secret address for your calendar feed; the old one stops working",
    request=None,
    responses={200: CalendarFeedSerializer},
)
class CalendarFeedRegenerateApi(generics.GenericAPIView):
    """A new secret address; the old one stops working at once (turns the feed on if off)."""

    serializer_class = CalendarFeedSerializer

    def post(self, request):
        return Response(CalendarFeedSerializer(_state(calendar_feed_regenerate(user=request.user))).data)


urlpatterns = [
    path("me/calendar-feed/", CalendarFeedApi.as_view(), name="api-calendar-feed"),
    path("me/calendar-feed/regenerate/", CalendarFeedRegenerateApi.as_view(), name="api-calendar-feed-regenerate"),
]
