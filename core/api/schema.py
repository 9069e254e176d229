"""The OpenAPI schema tells every status code the API can answer, not only the happy one.

drf-spectacular documents what a view declares; DRF itself adds answers no view
declares. This schema class adds them wherever they can happen, unless the view
already documents that code:

- 401 and 403 wherever a caller must be signed in: a caller without a valid token or
  session (none, or one expired or revoked) gets 401 ``{"detail": ...}`` with the
  ``WWW-Authenticate: Token`` challenge (token authentication comes first); one the
  rules refuse gets 403;
- 404 on paginated lists (``?page=`` past the end: "Invalid page.") and on every path
  that names an object;
- 400 on every request with a body, and on lists with filters (an unknown choice);
- 429 wherever a throttle applies (signing in for a token);
- 415 on every request with a body: the API reads JSON (a calendar upload also multipart);
- 422 wherever the view takes an ``Idempotency-Key`` (``core/idempotency.py``): the same key
  sent again with another body.
"""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from .errors import ServiceErrorSerializer

# Field errors (a mapping from field name to messages) or {"detail": ...}.
_INVALID = OpenApiResponse(
    {"type": "object", "additionalProperties": {}},
    description='Invalid input: field errors keyed by field, or {"detail": ...}.',
)
_UNAUTHENTICATED = OpenApiResponse(
    ServiceErrorSerializer, description="Not signed in: no token or session, or an expired or revoked token."
)
_DENIED = OpenApiResponse(ServiceErrorSerializer, description="Not allowed.")
_NOT_FOUND = OpenApiResponse(ServiceErrorSerializer, description="Not found among what you may see, or no such page.")
_THROTTLED = OpenApiResponse(ServiceErrorSerializer, description="Too many attempts: wait and try again.")
_UNSUPPORTED = OpenApiResponse(
    ServiceErrorSerializer, description="The body is not JSON (Content-Type: application/json)."
)
_KEY_REUSED = OpenApiResponse(
    ServiceErrorSerializer, description="This Idempotency-Key was used for a different request: use a new key."
)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        view = self.view
        extra = {}
        if not all(isinstance(p, AllowAny) for p in view.get_permissions()):
            extra["401"] = _UNAUTHENTICATED
            extra["403"] = _DENIED
        paginated = self._is_list_view() and getattr(view, "pagination_class", None) is not None
        if paginated or "{" in self.path:
            extra["404"] = _NOT_FOUND
        filtered = self._is_list_view() and (
            getattr(view, "filterset_class", None) or getattr(view, "filterset_fields", None)
        )
        if self.method in ("POST", "PUT", "PATCH") or filtered:
            extra["400"] = _INVALID
        if self.method in ("POST", "PUT", "PATCH"):
            extra["415"] = _UNSUPPORTED
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()):
            extra["422"] = _KEY_REUSED
        if view.get_throttles():
            extra["429"] = _THROTTLED
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
