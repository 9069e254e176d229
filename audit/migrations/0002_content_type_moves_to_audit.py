"""An existing database keeps its content type for audit entries, relabelled from matching to
audit, so the admin's history and any permission granted on the model follow it (otherwise
post_migrate makes a new one and the old one is left stale). A fresh database has neither yet:
nothing to do."""

from django.db import migrations


def relabel(from_app, to_app):
    def run(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        if not ContentType.objects.using(db).filter(app_label=to_app, model="auditentry").exists():
            ContentType.objects.using(db).filter(app_label=from_app, model="auditentry").update(app_label=to_app)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("matching", "0008_auditentry_moves_to_audit"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(relabel("matching", "audit"), relabel("audit", "matching")),
    ]
