from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.cache import patch_cache_control

# Directory cards show "active 3 days ago"; minute precision is not needed, and
# writing on every request would cost an UPDATE per page view.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


class LastSeenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now()
            if user.last_seen is None or now - user.last_seen > LAST_SEEN_RESOLUTION:
                get_user_model().objects.filter(pk=user.pk).update(last_seen=now)
                user.last_seen = now
        return self.get_response(request)


class NoStoreForSignedInMiddleware:
    """Pages and API answers for a signed-in person carry their personal data: no shared or
    browser cache may keep them (``Cache-Control: no-store, private``). A view that set its
    own Cache-Control keeps it; static files never reach here (WhiteNoise answers first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from core import outbox

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
