"""A page's save of a shared text (the agreement, a goal, a resource, a meeting's notes or
place) against the version the page showed (``core.concurrency``), for the mentorship and
meeting pages alike.

A stale save is never saved over the other person's: the form keeps what was typed, now
carries the current version (so saving again is a choice made while looking at theirs), and
the conflict panel (``matching/mentorships/_conflict.html``) shows their text beside it.
Not the conflicts of interest of ``views/conflicts.py``.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model

from core.concurrency import EditConflict, keep_for_second_save
from core.forms import add_service_errors, form_status

# What the panel shows of the row as saved now: (label, their value) pairs, read-only.
TheirFields = Callable[[Any], Iterable[tuple[str, str]]]


def conflict_panel(exc: EditConflict, fields: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """What the conflict panel shows: who saved, their text field by field, and the version
    the form now carries."""
    current: Model = exc.current
    return {
        "editor": getattr(exc.editor, "full_name", None) or "Someone else",
        "by_you": exc.by_saver,  # saved first in another of your own tabs
        "fields": list(fields),
        "version": current.version,  # type: ignore[attr-defined]
    }


def save_or_conflict(
    form: forms.BaseForm, save: Callable[[], object], their_fields: TheirFields
) -> tuple[bool, dict[str, Any] | None]:
    """Run ``save()`` (a service that checks the form's version under its row lock).

    ``(True, None)`` once saved; ``(False, panel)`` when someone saved since the page was
    shown (``their_fields(row as it is now)`` fills the panel); ``(False, None)`` when the
    service refused for another reason, its errors now on the form."""
    try:
        save()
    except EditConflict as exc:
        keep_for_second_save(form, exc)
        return False, conflict_panel(exc, their_fields(exc.current))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False, None
    return True, None


def status_after(form: forms.BaseForm, conflict: dict[str, Any] | None) -> int:
    """The page's status: 409 beside a conflict panel, else ``form_status`` (400 with errors)."""
    if conflict:
        return 409
    return form_status(form)
