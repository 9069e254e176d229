"""AuditEntry now belongs to the ``audit`` app (its migration 0001): matching forgets the model
in its state only. The table, its indexes and the append-only trigger are untouched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0007_notification_outbox"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
