"""How a service's refusal reaches an API client, the same for every endpoint.

A django ``ValidationError`` that names fields becomes a 400 with those keys; any other
becomes ``{"detail": "..."}``: a 400, or a 409 where the endpoint acts on an object
whose state no longer allows it (``conflict=True``).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import APIException


class ServiceErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# The body of every 4xx answer, as DRF writes it (there is no custom exception handler): a refusal
# says why in ``detail``; invalid input (400) names its fields instead, each with its messages.
# The schema references this one component from every 4xx response (core/api/schema.py).
ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every 4xx answer. A refusal says why in `detail` (401, 403, 404, 409, 412, 415, 422, 428, 429; "
        "a 400 the request as a whole). Invalid input (400) names the fields instead: each key is a "
        "field of the request (or `non_field_errors`), each value its messages, a list of strings, or "
        "for a nested field or a list the same shape again, keyed by its fields or positions."
    ),
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in a sentence for a person."},
        "non_field_errors": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Invalid input as a whole rather than one field.",
        },
        # A stale write (412, core/concurrency.py) says what it lost to; its ETag is in the ETag header.
        "current_version": {
            "type": "integer",
            "description": "412: the version now saved (absent when the If-Match sent can match nothing).",
        },
        "changed_by": {
            "type": "string",
            "nullable": True,
            "description": "412: who saved the current version, when known.",
        },
    },
    "additionalProperties": {
        "description": "A field's messages.",
        "anyOf": [{"type": "array", "items": {}}, {"type": "object", "additionalProperties": {}}],
    },
}


class ServiceRefused(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refused"


class ServiceConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@contextmanager
def service_refusals(*, conflict: bool = False) -> Iterator[None]:
    try:
        yield
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict") and NON_FIELD_ERRORS not in exc.error_dict:
            raise serializers.ValidationError(exc.message_dict) from exc
        detail = " ".join(exc.messages)
        raise (ServiceConflict(detail) if conflict else ServiceRefused(detail)) from exc
