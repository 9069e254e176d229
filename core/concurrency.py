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

from django.core.exceptions import ValidationError
from django.db.models import Model
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

CONFLICT_MESSAGE = (
    "{name} changed this while you were editing. Your text is still in the form: "
    "compare it with theirs below, then save again."
)


class EditConflict(ValidationError):
    """A save started from an older version than the row's. ``current`` is the row as it is
    now (re-read under the lock); ``editor`` who saved it last, when known."""

    def __init__(self, current: Model, *, editor: Any = None):
        self.current = current
        self.editor = editor
        name = getattr(editor, "full_name", "") or "Someone else"
        super().__init__(CONFLICT_MESSAGE.format(name=name), code="edit_conflict")


def check_version(obj: Model, expected: int | None, *, editor: Any = None) -> None:
    """Raise ``EditConflict`` unless ``expected`` is None or ``obj``'s version. Call it with
    ``obj`` locked and freshly read."""
    if expected is not None and int(expected) != obj.version:  # type: ignore[attr-defined]
        raise EditConflict(obj, editor=editor)


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


def if_match_version(request: Request) -> int | None:
    """The version named by ``If-Match`` (``"3"`` or ``W/"3"``); None for ``*`` (any version).
    Missing: 428. Not one of ours: 412, since it cannot match."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return None
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed()
    return int(tag)
