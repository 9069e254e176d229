"""Writing the audit trail. Entries are append-only (``AuditEntry.save``/``delete`` refuse, and on
PostgreSQL a trigger does too), and none stores anything confidential: check-ins record that
they happened, rankings their counts, meeting notes their length."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from .models import AuditEntry

if TYPE_CHECKING:
    # django-stubs resolves this alias to settings.AUTH_USER_MODEL; audit may not import accounts.
    from django.contrib.auth.models import _User


def audit_log(
    *,
    actor: "_User | None",
    action: str,
    obj: Model,
    program: Any = None,  # an accounts.Program, which audit may not name
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one entry. Call it inside the transaction that makes the change, so the
    entry and the change commit (or roll back) together."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        program=program if program is not None else getattr(obj, "program", None),
        action=action,
        object_type=obj._meta.model_name or "",  # always set on a concrete model
        object_id=str(obj.pk),
        before=before or {},
        after=after or {},
        reason=reason,
    )


def audit_log_many(
    *, actor: "_User | None", action: str, objs: Sequence[Model], after: dict[str, Any] | None = None, reason: str = ""
) -> list[AuditEntry]:
    """``audit_log`` for many objects of one action in one INSERT (a match run's publish starts a
    thousand mentorships): the same entries, each with its object's program."""
    return AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=actor if getattr(actor, "pk", None) else None,
            program=getattr(obj, "program", None),
            action=action,
            object_type=obj._meta.model_name or "",
            object_id=str(obj.pk),
            before={},
            after=after or {},
            reason=reason,
        )
        for obj in objs
    )
