"""Middleware every app's pages and API go through."""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.log import log_response

from core import logs, outbox

access_logger = logging.getLogger("mentormatch.request")


class RequestIdMiddleware:
    """First in the stack: gives the request its id (core/logs.py), puts it on every log line
    of the request and in the response's ``X-Request-ID``, and writes one access line per
    request. The line names the route's pattern (``programs/<slug:slug>/pairings/``), never
    the path or the query string: paths carry sign-in tokens and queries carry names.
    The health probes (core/health.py) are not logged: a load balancer asks every few seconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = logs.request_id_from(request.headers.get(logs.REQUEST_ID_HEADER))
        started = time.monotonic()
        with logs.bound(request_id=request_id):
            response = self.get_response(request)
            response[logs.REQUEST_ID_HEADER] = request_id
            # An API token names its user only inside the view (DRF sets it on the request then).
            self._note_user(request)
            if response.status_code >= 400:
                # Django's own "Not Found: /path" line, written here so it carries the request id
                # (Django writes it after the middleware otherwise; it writes it once either way).
                # Any response will do (a streamed one too); the stubs ask for HttpResponse.
                log_response(
                    "%s: %s",
                    response.reason_phrase,
                    request.path,
                    response=response,  # type: ignore[arg-type]
                    request=request,
                )
            match = request.resolver_match
            if match is None or not match.url_name or not match.url_name.startswith("health-"):
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    f"/{match.route}" if match is not None else "(unrouted)",
                    response.status_code,
                    extra={
                        "method": request.method,
                        "route": f"/{match.route}" if match is not None else None,
                        "status": response.status_code,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: dict[str, Any]
    ) -> None:
        # Every middleware has run by now, so the session's user is known; the program is the
        # one the URL names (``programs/<slug>/…``, on pages and in the API).
        match = request.resolver_match
        logs.update(program=view_kwargs.get("slug") if match is not None and "programs/" in match.route else None)
        self._note_user(request)

    @staticmethod
    def _note_user(request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            logs.update(user_id=user.pk)


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
