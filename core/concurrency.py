"""Optimistic concurrency for texts two people edit: nobody's save overwrites the other's.

A shared row carries a ``version`` (1, 2, …). A page puts the version it showed in a hidden
field; the API sends it back as ``ETag`` and expects it in ``If-Match``. The service, holding
the row lock, compares it with the row's version: equal, it saves and adds one; different,
it raises ``EditConflict`` with the row as it is now, and the page shows both texts side by
side (the saver's kept in the form), the API answers 412 with the current version's ETag.

Under the lock a saving service adds one (``obj.version += 1``, saved with the change).
Services take ``version=None`` for callers with nothing to compare (a task, a fixture).
"""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

CONFLICT_MESSAGE = (
    "{name} changed this while you were editing. Your text is still in the form: "
    "compare it with theirs below, then save again."
)
# The same person saved it elsewhere first (two tabs, a phone and a laptop): not "someone else".
OWN_CONFLICT_MESSAGE = (
    "You changed this in another tab or window while you were editing here. Your text is still in "
    "the form: compare it with the saved one below, then save again."
)


class EditConflict(ValidationError):
    """A save started from an older version than the row's. ``current`` is the row as it is
    now (re-read under the lock); ``editor`` who saved it last, when known; ``by_saver`` when
    that was the person saving now (in another tab or on another device)."""

    def __init__(self, current: Model, *, editor: Any = None, actor: Any = None):
        self.current = current
        self.editor = editor
        self.by_saver = editor is not None and actor is not None and editor.pk == actor.pk
        name = getattr(editor, "full_name", "") or "Someone else"
        message = OWN_CONFLICT_MESSAGE if self.by_saver else CONFLICT_MESSAGE.format(name=name)
        super().__init__(message, code="edit_conflict")


def check_version(obj: Model, expected: int | None, *, editor: Any = None, actor: Any = None) -> None:
    """Raise ``EditConflict`` unless ``expected`` is None or ``obj``'s version. Call it with
    ``obj`` locked and freshly read. ``editor`` may be a callable, asked only on a conflict
    (finding who saved last can cost a query); ``actor``, the person saving now, lets the
    message tell a save of their own from another tab apart from someone else's."""
    if expected is None:
        return
    if isinstance(expected, str) and expected.isdigit():
        expected = int(expected)
    if isinstance(expected, bool) or not isinstance(expected, int):
        expected = -1  # not a version we ever gave out: it cannot match
    if expected != obj.version:  # type: ignore[attr-defined]
        raise EditConflict(obj, editor=editor() if callable(editor) else editor, actor=actor)


class VersionField(forms.IntegerField):
    """The hidden version a page form carries: the one it was rendered from."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("label", "")
        super().__init__(**kwargs)


def keep_for_second_save(form: forms.BaseForm, exc: EditConflict) -> None:
    """After a stale save: the form keeps what the person typed, says why it was not saved,
    and now carries the version they have been shown, so saving again is a deliberate choice
    to replace the other person's text (made while looking at it)."""
    data = form.data.copy()  # type: ignore[attr-defined]
    data[form.add_prefix("version")] = str(exc.current.version)  # type: ignore[attr-defined]
    form.data = data
    form.add_error(None, exc.messages)


# --- The API: ETag out, If-Match in.


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"
    default_detail = (
        "This is a shared text: send the ETag you last read in an If-Match header, so a change "
        "made by the other person since is not overwritten."
    )


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "It changed since you read it: read it again (GET), then send your change with the new ETag."


def etag_of(obj: Model) -> str:
    return f'"{obj.version}"'  # type: ignore[attr-defined]


def with_etag(response: Response, obj: Model) -> Response:
    response["ETag"] = etag_of(obj)
    return response


def stale_response(exc: EditConflict) -> Response:
    """The API's answer to a stale write: 412, the current version's ETag, and who saved it."""
    editor = getattr(exc.editor, "full_name", None)
    body = {
        "detail": PreconditionFailed.default_detail,
        "current_version": exc.current.version,  # type: ignore[attr-defined]
        "changed_by": editor,
    }
    return with_etag(Response(body, status=status.HTTP_412_PRECONDITION_FAILED), exc.current)


def if_match_version(request: Request) -> int | None:
    """The version named by ``If-Match`` (``"3"`` or ``W/"3"``); None for ``*`` (any version).
    Missing: 428. Not one of ours: 412, since it cannot match."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return None
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 9:
        raise PreconditionFailed()
    return int(tag)


# --- The schema: what a shared text's endpoints say about these headers.


class PreconditionFailedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # Absent when the If-Match sent is not one of ours at all (it can match nothing).
    current_version = serializers.IntegerField(
        required=False, help_text="The version now saved; its ETag is in the ETag header."
    )
    changed_by = serializers.CharField(required=False, allow_null=True, help_text="Who saved it last, when known.")


IF_MATCH = OpenApiParameter(
    "If-Match",
    # Not blank: an empty If-Match is read as none (428).
    {"type": "string", "minLength": 1},
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag you last read (e.g. "3"), or * to overwrite whatever is there.',
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 412],
    description="The version of the shared text: send it back in If-Match with your change.",
)
CONDITIONAL_RESPONSES = {
    412: OpenApiResponse(
        PreconditionFailedSerializer,
        description="Someone saved a newer version since your ETag: read it again (its ETag is in the "
        "ETag header), merge, and send your change with the new ETag.",
    ),
    428: OpenApiResponse(description="No If-Match header: a shared text is only changed against a version."),
}
