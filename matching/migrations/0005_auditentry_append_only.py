"""The audit trail is append-only in the database too, not only in the model's save() and
delete(): a trigger refuses DELETE, and any UPDATE except the foreign keys Django sets to
NULL when a person or a program is deleted (actor, program). Bulk ``QuerySet.update()`` and
``.delete()``, raw SQL and the admin's bulk actions all meet it. (TRUNCATE, which test
databases use between tests, fires no row trigger.)

PostgreSQL only, the production database: on SQLite (the embedded demo and ``make test``) Django
empties tables between transactional tests with DELETE, which such a trigger would refuse; there
the model's guards stand alone."""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION matching_auditentry_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit entries are append-only: % % cannot be deleted', OLD.action, OLD.id;
        END IF;
        IF (NEW.id, NEW.action, NEW.object_type, NEW.object_id, NEW.before, NEW.after, NEW.reason, NEW.created_at)
           IS DISTINCT FROM
           (OLD.id, OLD.action, OLD.object_type, OLD.object_id, OLD.before, OLD.after, OLD.reason, OLD.created_at)
           OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL)
           OR (NEW.program_id IS DISTINCT FROM OLD.program_id AND NEW.program_id IS NOT NULL) THEN
            RAISE EXCEPTION 'audit entries are append-only: % % cannot be changed', OLD.action, OLD.id;
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER matching_auditentry_append_only
    BEFORE UPDATE OR DELETE ON matching_auditentry
    FOR EACH ROW EXECUTE FUNCTION matching_auditentry_append_only();
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS matching_auditentry_append_only ON matching_auditentry;",
    "DROP FUNCTION IF EXISTS matching_auditentry_append_only();",
]

def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # no placeholders: the % in RAISE stays as it is

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0004_conflicts_of_interest"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL}),
            _run({"postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
