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
