"""The audit trail: coverage of the services, the coordinators' page, its CSV export, the API,
and append-only everywhere (model, admin, API).

Times: UserFactory puts everyone in America/New_York, which moved to daylight time (UTC−4)
at 2 a.m. on Sunday March 9, 2025; the date tests below lean on that.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEntry

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


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("root@hospital.example", "a-long-admin-pass", first_name="R", last_name="Oot")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_admin_shows_entries_but_refuses_to_add_change_or_delete_even_for_a_superuser(
    superuser_client, program, coordinator
):
    entry = _entry(program, actor=coordinator, reason="as written")
    change_url = reverse("admin:audit_auditentry_change", args=[entry.pk])

    assert superuser_client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    assert superuser_client.get(change_url).status_code == 200  # a read-only view
    assert superuser_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    edit = superuser_client.post(
        change_url, {"reason": "rewritten", "action": "x", "object_type": "x", "object_id": "1"}
    )
    assert edit.status_code == 403
    assert (
        superuser_client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    # No bulk "delete selected" action either (it would bypass the model's delete()).
    superuser_client.post(
        reverse("admin:audit_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert AuditEntry.objects.get(pk=entry.pk).reason == "as written"
