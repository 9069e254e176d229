"""Institution administrators' services lock the institution first (``core.locking``: an
institution above its programs), then the people, so an institution's changes queue one after
the other; and sent twice, each changes things once. The race itself, on PostgreSQL, is in
tests/integration/test_institution_races.py."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import institutions
from accounts.institutions import (
    institution_admin_add,
    program_coordinator_add,
    program_coordinator_added,
    program_coordinator_remove,
    program_create,
    program_update,
)
from accounts.models import InstitutionRole, Membership, Program
from audit.models import AuditEntry
from core import locking

pytestmark = pytest.mark.django_db


@pytest.fixture
def taken(monkeypatch):
    """The models each service locks, in the order it locks them."""
    seen = []
    real = locking.locked

    def recording(queryset, **kwargs):
        seen.append(queryset.model._meta.label)
        return real(queryset, **kwargs)

    monkeypatch.setattr(institutions, "locked", recording)
    return seen


def _in_lock_order(labels):
    positions = [locking.LOCK_ORDER.index(label) for label in labels]
    return positions == sorted(positions)


def test_the_institution_has_its_place_above_programs_work():
    assert locking.LOCK_ORDER[0] == "accounts.Institution"
    assert locking.LOCK_ORDER.index("accounts.Institution") < locking.LOCK_ORDER.index("accounts.User")


def test_every_service_locks_the_institution_first_then_people(taken, hospital, admin, program, coordinator, surgery):
    calls = [
        lambda: program_create(
            institution=hospital, actor=admin, name="Surgery", specialty=surgery, time_zone="America/Chicago"
        ),
        lambda: program_update(
            program=program, actor=admin, name="IM", specialty=program.specialty, time_zone="Europe/London"
        ),
        lambda: program_coordinator_add(
            program=program, actor=admin, email="new@hospital.example", first_name="N", last_name="O"
        ),
        lambda: program_coordinator_remove(program=program, actor=admin, user=coordinator),
        lambda: institution_admin_add(institution=hospital, actor=admin, email=coordinator.email),
    ]
    for call in calls:
        taken.clear()
        call()
        assert taken[0] == "accounts.Institution", taken
        assert _in_lock_order(taken), taken


def test_the_rule_is_read_under_the_lock(taken, hospital, coordinator, surgery):
    """A coordinator is refused, after the institution's lock (so an administrator removed
    meanwhile is refused too)."""
    with pytest.raises(PermissionDenied):
        program_create(institution=hospital, actor=coordinator, name="X", specialty=surgery, time_zone="Europe/London")
    assert taken == ["accounts.Institution"]
    assert not Program.objects.filter(name="X").exists()


def test_naming_a_coordinator_twice_makes_one_role_one_entry_one_announcement(program, admin, resident):
    announced = []
    program_coordinator_added.connect(lambda **kw: announced.append(kw["membership"].pk), weak=False, dispatch_uid="t")
    try:
        first = program_coordinator_add(program=program, actor=admin, email=resident.email)
        second = program_coordinator_add(program=program, actor=admin, email=resident.email.upper())
    finally:
        program_coordinator_added.disconnect(dispatch_uid="t")
    assert (first.added, second.added) == (True, False)
    roles = Membership.objects.filter(user=resident, program=program, role=Membership.Role.COORDINATOR)
    assert roles.count() == 1 and announced == [roles.get().pk]
    assert AuditEntry.objects.filter(action="program.coordinator_add", program=program).count() == 1


def test_naming_an_administrator_twice_makes_one_role(hospital, admin, attending):
    results = [institution_admin_add(institution=hospital, actor=admin, email=attending.email) for _ in range(2)]
    assert [r.added for r in results] == [True, False]
    assert InstitutionRole.objects.filter(institution=hospital, user=attending).count() == 1
    assert AuditEntry.objects.filter(action="institution.admin_add").count() == 1


def test_a_deactivated_person_is_refused_as_read_under_the_lock(program, admin, resident):
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    with pytest.raises(ValidationError, match="deactivated"):
        program_coordinator_add(program=program, actor=admin, email=resident.email)
    assert not Membership.objects.filter(user=resident, role=Membership.Role.COORDINATOR).exists()


def test_two_programs_with_one_web_address_one_clear_refusal(hospital, admin, surgery):
    program_create(
        institution=hospital, actor=admin, name="Surgery", specialty=surgery, time_zone="Europe/London", slug="gs"
    )
    with pytest.raises(ValidationError) as refused:
        program_create(
            institution=hospital,
            actor=admin,
            name="Surgery Two",
            specialty=surgery,
            time_zone="Europe/London",
            slug="gs",
        )
    assert refused.value.message_dict == {"slug": ["The web address “gs” is taken by another program: choose another."]}
    assert Program.objects.filter(slug="gs").count() == 1


def test_a_web_address_taken_between_the_check_and_the_insert_is_a_plain_refusal(
    monkeypatch, hospital, admin, surgery, other_program
):
    """The unique slug backs the lock where the other program is another institution's (its
    administrator holds another institution's lock): the insert fails, and says so by the field."""
    monkeypatch.setattr(institutions, "_clean_slug", lambda slug, *, name: other_program.slug)
    with pytest.raises(ValidationError) as refused:
        program_create(institution=hospital, actor=admin, name="Surgery", specialty=surgery, time_zone="Europe/London")
    assert "was just taken by another program" in refused.value.message_dict["slug"][0]
    assert not Program.objects.filter(name="Surgery").exists()
    assert not AuditEntry.objects.filter(action="program.create").exists()
