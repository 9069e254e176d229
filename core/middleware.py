"""Middleware every app's pages and API go through."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_cache_control

from core import outbox


class NoStoreForSignedInMiddleware:
    """Pages and API answers for a signed-in person carry their personal data: no shared or
    browser cache may keep them (``Cache-Control: no-store, private``). A view that set its
    own Cache-Control keeps it; static files never reach here (WhiteNoise answers first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


PROCESSING_DELAYED_HEADER = "X-Processing-Delayed"
PROCESSING_DELAYED_MESSAGE = (
    "Saved. E-mail and background work are delayed; they will go out automatically once the task queue is back."
)


class ProcessingDelayedMiddleware:
    """When a request's change committed but its background work could not be enqueued
    (core/outbox.py), say so: a warning on the next page, and for the API a
    ``X-Processing-Delayed: true`` header on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = outbox.processing_delayed_reset()
        try:
            response = self.get_response(request)
            if outbox.processing_delayed():
                response[PROCESSING_DELAYED_HEADER] = "true"
                # An API client reads the header; a message would wait for its next page view.
                if not request.path.startswith("/api/"):
                    messages.warning(request, PROCESSING_DELAYED_MESSAGE, fail_silently=True)
        finally:
            outbox.processing_delayed_restore(token)
        return response


class ViewerTimeZoneMiddleware:
    """Every page shows dates and times on the signed-in person's own clock: their time zone
    is the active one for the request (``|date``, ``{% now %}``, ``timezone.localdate()``,
    form fields reading typed times). Signed out, the site's zone. The API keeps the site's
    zone: its instants carry their offset, and its contract does not change with the caller."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        zone = getattr(user, "zone", None) if user is not None and user.is_authenticated else None
        if zone is None or request.path.startswith("/api/"):
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
