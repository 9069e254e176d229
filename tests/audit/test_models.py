"""The audit trail: coverage of the services, the coordinators' page, its CSV export, the API,
and append-only everywhere (model, admin, API).

Times: UserFactory puts everyone in America/New_York, which moved to daylight time (UTC−4)
at 2 a.m. on Sunday March 9, 2025; the date tests below lean on that.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_log

pytestmark = pytest.mark.django_db


def _entry(
    program, *, action="conflict.add", actor=None, reason="", when=None, obj_type="mentorship", obj_id="1", **data
):
    return AuditEntry.objects.create(
        program=program,
        actor=actor,
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        reason=reason,
        created_at=when or timezone.now(),
        before=data.get("before", {}),
        after=data.get("after", {}),
    )


# --- Append-only.


def test_an_entry_cannot_be_changed_or_deleted_through_the_model(program):
    entry = _entry(program, reason="as written")
    entry.reason = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "as written"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the database trigger is PostgreSQL's (migration 0005); on SQLite the model's guards stand alone",
)
def test_the_database_itself_refuses_to_change_or_delete_an_entry(program, coordinator, resident):
    entry = audit_log(actor=coordinator, action="conflict.add", obj=program, reason="Spouse")
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(reason="nothing happened"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(actor=resident),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert (entry.reason, entry.actor) == ("Spouse", coordinator)

    # Deleting the person who acted keeps the entry, with no actor: Django's SET_NULL is allowed.
    coordinator.delete()
    entry.refresh_from_db()
    assert entry.actor is None and entry.reason == "Spouse"
