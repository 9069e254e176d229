"""The append-only audit trail, below every app that writes to it: accounts (roster,
invitations) and matching (requests, mentorships, match runs...) both log here, so the
model knows neither. Readers that need to describe an entry's object in words live with the
objects (``matching.audit_trail``)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """Append-only record of a state change: who, what, when, before and after, why."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    program = models.ForeignKey("accounts.Program", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table (and its indexes) began life in matching and kept their names when the
        # model moved here: the append-only trigger of matching's migration 0005 is on this table.
        db_table = "matching_auditentry"
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["program", "created_at"], name="matching_au_program_224916_idx"),
            models.Index(fields=["object_type", "object_id"], name="matching_au_object__11f898_idx"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor}: {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries cannot be deleted.")
