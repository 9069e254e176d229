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
- 400 on every request with a body, and on paged lists (a ``page_size`` that is not a whole
  number from 1) and lists with filters (an unknown choice);
- 429 wherever a throttle applies (signing in for a token);
- 415 on every request that takes a body: the API reads JSON (a calendar upload also multipart);
- 422 wherever the view takes an ``Idempotency-Key`` (``core/idempotency.py``): the same key
  sent again with another body.

Every 4xx answer then has one body schema, ``Error`` (core/api/errors.py), and every write
declares the ``X-Processing-Delayed`` header (``postprocess_errors_and_headers``). Operation
ids read as the path and what the operation does: ``requests_list``, ``requests_accept``.
"""

import json
from typing import Any, Literal

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.middleware import PROCESSING_DELAYED_HEADER

from .errors import ERROR_COMPONENT, ERROR_SCHEMA, ServiceErrorSerializer

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


# Any text without a NUL character (\u0000).
NO_NUL_PATTERN = "^[^\\u0000]*$"

_WRITE_ACTIONS = {"PUT": "update", "PATCH": "partial_update", "DELETE": "destroy"}


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF refuses a NUL character in any text (it cannot be stored): the schema says so.
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
        ):
            schema["pattern"] = NO_NUL_PATTERN
        return schema

    def get_operation_id(self) -> str:
        # ``requests_list``, ``requests_create``, ``requests_retrieve``, ``requests_accept``: the path
        # without its version and parameters, then the action. A POST to a path that names an action
        # (``…/accept/``) is that action; a POST to a list, or to a thing one can also read, creates.
        tokens = [token.replace("-", "_") for token in self._tokenize_path()] or ["root"]
        if self.method == "GET":
            action = "list" if self._is_list_view() else "retrieve"
        elif self.method == "POST":
            action = "create" if hasattr(self.view, "get") else ""
        else:
            action = _WRITE_ACTIONS[self.method]
        return "_".join([*tokens, action] if action else tokens)

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
        if self.method in ("POST", "PUT", "PATCH") or paginated or filtered:
            extra["400"] = _INVALID
        # A body is parsed only where the view reads one: a POST that takes none ignores it (no 415).
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            extra["415"] = _UNSUPPORTED
        if any(getattr(p, "name", None) == "Idempotency-Key" for p in self.get_override_parameters()):
            extra["422"] = _KEY_REUSED
        if view.get_throttles():
            extra["429"] = _THROTTLED
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


_KNOWN_ERROR_BODIES = (
    None,
    {"$ref": "#/components/schemas/ServiceError"},
    {"$ref": "#/components/schemas/PreconditionFailed"},
    _INVALID.response,
)
# What a client typically reads in each, for the docs (DRF's own wording where DRF answers).
_ERROR_EXAMPLES = {
    "400": {"message": ["This field is required."]},
    "401": {"detail": "Authentication credentials were not provided."},
    "403": {"detail": "You do not have permission to perform this action."},
    "404": {"detail": "Not found."},
    "409": {"detail": "This request has already been answered."},
    "412": {"detail": "It changed since you read it.", "current_version": 4, "changed_by": "Carol Chen"},
    "415": {"detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'},
    "422": {"detail": "This Idempotency-Key was used for a different request: use a new key."},
    "428": {"detail": "This is a shared text: send the ETag you last read in an If-Match header."},
    "429": {"detail": "Request was throttled. Expected available in 42 seconds."},
}
_PROCESSING_DELAYED = {
    "description": (
        "`true` when the change was saved but its e-mails or background work could not be queued "
        "yet (the task queue is down): they go out automatically once it is back. Absent otherwise."
    ),
    "schema": {"type": "string", "enum": ["true"]},
}


def postprocess_errors_and_headers(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Every 4xx response references ``Error`` and is JSON, whatever its view declared (nothing,
    ``ServiceError``, the 412's fields, or a calendar download's other media type); every write's
    2xx responses declare ``X-Processing-Delayed`` (core/middleware.py sends it); an operation
    open to anyone says ``security: []``; an optional query parameter may be sent empty (read as
    not given); a nullable reference is one of it or null."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    error = {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
    for item in result["paths"].values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # No authentication at all (signing in): say so, rather than leave it unsaid.
            operation.setdefault("security", [])
            # An empty optional query value (``?status=``, as an HTML form sends it) is read as not
            # given, by DRF's serializers, django-filter and the pagination alike: the schema says so.
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    bodies = [media.get("schema") for media in (response.get("content") or {None: {}}).values()]
                    # Anything else stays as declared, and tests/test_openapi.py fails on it.
                    if all(body in _KNOWN_ERROR_BODIES for body in bodies):
                        response["content"] = {"application/json": {**error}}
                        if code in _ERROR_EXAMPLES:
                            response["content"]["application/json"]["example"] = _ERROR_EXAMPLES[code]
                elif code.startswith("2") and method != "get":
                    response.setdefault("headers", {})[PROCESSING_DELAYED_HEADER] = _PROCESSING_DELAYED
    _nullable_references(schemas)
    # Their fields are Error's now: a second name for the same body would only confuse a client.
    text = json.dumps(result["paths"], default=str)  # descriptions may be lazy translations
    for name in ("ServiceError", "PreconditionFailed"):
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
    return result


def _nullable_references(node: Any) -> None:
    """``{"allOf": [{"$ref": …}], "nullable": true}`` (drf-spectacular's nullable nested object)
    becomes ``{"oneOf": [{"$ref": …}, {"type": "object", "nullable": true, "enum": [null]}]}``: in
    OpenAPI 3.0 an ``allOf`` still refuses null whatever ``nullable`` beside it says, and a
    generated client then fails on the first null (tests/contract)."""
    if isinstance(node, list):
        for child in node:
            _nullable_references(child)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable") and len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0]:
        ref = node.pop("allOf")[0]
        node.pop("nullable")
        node.pop("type", None)
        node["oneOf"] = [ref, dict(NULL_SCHEMA)]
    for child in node.values():
        _nullable_references(child)


# Null, written so that OpenAPI 3.0 tools (Redocly, openapi-python-client) read it as null.
NULL_SCHEMA = {"type": "object", "nullable": True, "enum": [None]}
