"""A double tap, a re-sent POST or a client's retry creates one thing, not two.

Pages: a create form carries a one-time value (``OnceFormMixin``, a hidden ``once`` field).
The view calls ``once_claim`` after the form is valid: the first submission of that value
claims it (``cache.add`` is atomic, so of two taps 100 ms apart only one does); the view
then calls the service and ``once_done`` with the page to show, or ``once_release`` when the
service refused (the person fixes the form and sends the same value again). A duplicate
gets the first one's page.

API: a create call may send ``Idempotency-Key`` (any string up to 255 characters, unique
per intended create). The first call with a key runs and its response is kept for 24 h;
a repeat with the same body gets the same response (``Idempotent-Replayed: true``), a
repeat while the first is still running gets 409, and one with another body 422.
``@idempotent`` wraps such a view method.

Both are kept in the cache (Redis in production). Where the cache cannot answer (Redis
down: core/cache.py fails soft), a submission counts as new: a duplicate is the lesser harm
than refusing the first.
"""

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .forms import add_service_errors

TTL = 24 * 3600
PENDING = "pending"
MAX_KEY_LENGTH = 255


class OnceFormMixin(forms.Form):
    """Adds the hidden one-time value; a fresh one each time the form is rendered unbound."""

    once = forms.CharField(widget=forms.HiddenInput, required=False, label="", max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["once"] = uuid.uuid4().hex


def _once_key(user_id: Any, scope: str, once: str) -> str:
    return f"mentormatch:once:{scope}:{user_id}:{once}"


def once_claim(request: Any, scope: str, once: str | None) -> tuple[bool, str | None]:
    """``(True, None)`` for the first submission of ``once``; ``(False, url)`` for a repeat,
    with the page the first one led to (None while it is still being handled)."""
    if not once:
        return True, None
    key = _once_key(request.user.pk, scope, once)
    if cache.add(key, PENDING, timeout=TTL):
        return True, None
    stored = cache.get(key)
    if stored is None:  # the cache cannot answer
        return True, None
    return False, (None if stored == PENDING else stored)


def once_done(request: Any, scope: str, once: str | None, url: str) -> None:
    if once:
        cache.set(_once_key(request.user.pk, scope, once), url, timeout=TTL)


def once_release(request: Any, scope: str, once: str | None) -> None:
    if once:
        cache.delete(_once_key(request.user.pk, scope, once))


def create_once(
    request: Any,
    form: forms.Form,
    *,
    scope: str,
    create: Callable[[], tuple[str, str]],
    fallback_url: str,
    repeat_message: str,
    aliases: dict[str, Any] | None = None,
) -> HttpResponse | None:
    """A valid create form's submission, handled once. ``create`` calls the service and
    returns ``(url, message)``: the page to go to and what to tell the person. A repeat of
    the same form goes to the first one's page with ``repeat_message`` (to ``fallback_url``
    while the first is still being handled). None when the service refused: its errors are
    on ``form`` (``aliases`` as for ``add_service_errors``), and the same one-time value may
    be sent again once corrected."""
    once = form.cleaned_data.pop("once", "") or ""
    first, url = once_claim(request, scope, once)
    if not first:
        messages.info(request, repeat_message)
        return redirect(url or fallback_url)
    try:
        url, message = create()
    except ValidationError as exc:
        once_release(request, scope, once)
        add_service_errors(form, exc, aliases=aliases)
        return None
    except BaseException:
        once_release(request, scope, once)
        raise
    once_done(request, scope, once, url)
    messages.success(request, message)
    return redirect(url)


# --- The API.

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any string up to 255 characters, new for each thing you mean to create. A retry with the "
    "same key and body gets the first answer again (with Idempotent-Replayed: true) instead of a second "
    "creation; a retry while the first is still being handled gets 409. Keys are kept 24 hours.",
)
IDEMPOTENT_RESPONSES = {
    422: OpenApiResponse(description="This Idempotency-Key was already used with a different request."),
}


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except TypeError:  # a multipart body with files
        body = repr(sorted(request.data.keys()))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _error(detail: str, code: int) -> Response:
    return Response({"detail": detail}, status=code)


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Honour ``Idempotency-Key`` on a DRF view method that creates something."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return _error(f"Idempotency-Key is at most {MAX_KEY_LENGTH} characters.", status.HTTP_400_BAD_REQUEST)
        cache_key = "mentormatch:idempotency:" + hashlib.sha256(f"{request.user.pk}\n{key}".encode()).hexdigest()
        fingerprint = _fingerprint(request)
        if not cache.add(cache_key, {"fingerprint": fingerprint, "status": None}, timeout=TTL):
            stored = cache.get(cache_key)
            if stored is not None:
                if stored["fingerprint"] != fingerprint:
                    return _error(
                        "This Idempotency-Key was used for a different request: use a new key for a new one.",
                        status.HTTP_422_UNPROCESSABLE_ENTITY,
                    )
                if stored["status"] is None:
                    return _error(
                        "A request with this Idempotency-Key is still being handled: try again in a moment.",
                        status.HTTP_409_CONFLICT,
                    )
                return Response(
                    stored["data"],
                    status=stored["status"],
                    headers={**stored["headers"], "Idempotent-Replayed": "true"},
                )
        try:
            response = view_method(self, request, *args, **kwargs)
        except BaseException:
            cache.delete(cache_key)
            raise
        if 200 <= response.status_code < 300:
            headers = {name: response[name] for name in ("Location", "ETag") if response.has_header(name)}
            cache.set(
                cache_key,
                {"fingerprint": fingerprint, "status": response.status_code, "data": response.data, "headers": headers},
                timeout=TTL,
            )
        else:
            # A refusal is not kept: the client may fix the request and send it again.
            cache.delete(cache_key)
        return response

    return wrapper
