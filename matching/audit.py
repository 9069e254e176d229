"""The audit trail: every state change of requests and mentorships, and every coordinator action."""

from .models import AuditEntry


def audit_log(*, actor, action: str, obj, program=None, before: dict | None = None, after: dict | None = None, reason: str = ""):
    """Append one entry. Call it inside the transaction that makes the change, so the
    entry and the change commit (or roll back) together."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        program=program if program is not None else getattr(obj, "program", None),
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        before=before or {},
        after=after or {},
        reason=reason,
    )
