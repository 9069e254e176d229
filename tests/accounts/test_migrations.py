"""Upgrading keeps every program's institution: 0008 turns the names into Institution rows."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0007_invitation_lease")]
AFTER = [("accounts", "0008_institutions")]


@pytest.fixture
def back_to_latest():
    """Leave the schema as every other test expects it: all migrations applied (going back to
    0007 also unapplied the later ones, and their columns, of every app that depends on it)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_institution_names_become_institutions_shared_by_name(back_to_latest):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Program, Specialty = old.get_model("accounts", "Program"), old.get_model("accounts", "Specialty")
    im = Specialty.objects.get(slug="internal-medicine")
    for slug, institution in [("im", "General Hospital"), ("gs", "General Hospital"), ("fm", "Riverside Clinic")]:
        Program.objects.create(name=slug.upper(), slug=slug, specialty=im, institution=institution)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Program, Institution = new.get_model("accounts", "Program"), new.get_model("accounts", "Institution")

    assert {(p.slug, p.institution.name) for p in Program.objects.select_related("institution")} == {
        ("im", "General Hospital"),
        ("gs", "General Hospital"),
        ("fm", "Riverside Clinic"),
    }
    assert Institution.objects.count() == 2
    # An upgraded institution asks its coordinators for a second factor, as a new one does.
    assert set(Institution.objects.values_list("require_mfa_for_coordinators", flat=True)) == {True}
    assert set(Institution.objects.values_list("slug", flat=True)) == {"general-hospital", "riverside-clinic"}
