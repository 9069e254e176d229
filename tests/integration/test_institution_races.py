"""Two institution administrators at once, on PostgreSQL (accounts/institutions.py).

Every institution service locks the institution's row first (``core.locking``), so two
administrators creating a program of one name queue: the second finds the name taken and is
told so beside the field. The first call is held inside its transaction after the name check;
the control takes no institution lock, and nothing else changes, and shows the race: two
programs of one name. Naming one coordinator twice at once queues the same way and makes one
role, one audit entry.
"""

import pytest

from accounts import institutions
from accounts.institutions import program_coordinator_add, program_create
from accounts.models import Institution, InstitutionRole, Membership, Program
from audit.models import AuditEntry
from tests.factories import ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hospital():
    """A program's institution and two of its administrators."""
    program = ProgramFactory()
    admins = [UserFactory(), UserFactory()]
    for admin in admins:
        InstitutionRole.objects.create(institution=program.institution, user=admin)
    return program, admins


def _creates(program, admins):
    def create(admin, slug):
        return lambda: program_create(
            institution=program.institution,
            actor=admin,
            name="Surgery Residency",
            specialty=program.specialty,
            time_zone="America/Chicago",
            slug=slug,
        )

    return create(admins[0], "surgery-a"), create(admins[1], "surgery-b")


def test_two_administrators_create_one_name_at_once_the_second_is_told(monkeypatch, hospital):
    program, admins = hospital
    hold = hold_step(monkeypatch, institutions, "_clean_slug")  # after the first's name check, in its lock

    outcomes, errors, blocked = overlap(*_creates(program, admins), hold=hold)

    assert errors == [] and blocked == 1
    assert outcomes == ["ok", f"{program.institution.name} already has a program called “Surgery Residency”."]
    assert Program.objects.filter(institution=program.institution, name="Surgery Residency").count() == 1


def test_control_without_the_institution_lock_both_create_one_name(monkeypatch, unlock, hospital):
    program, admins = hospital
    unlock(Institution)
    hold = hold_step(monkeypatch, institutions, "_clean_slug")

    outcomes, errors, blocked = overlap(*_creates(program, admins), hold=hold)

    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    assert Program.objects.filter(institution=program.institution, name="Surgery Residency").count() == 2


def test_naming_one_coordinator_twice_at_once_makes_one_role(monkeypatch, hospital):
    program, admins = hospital
    person = UserFactory()
    hold = hold_step(monkeypatch, institutions, "_person_for_email")  # inside the first's institution lock

    outcomes, errors, blocked = overlap(
        *(
            lambda admin=admin: program_coordinator_add(program=program, actor=admin, email=person.email)
            for admin in admins
        ),
        hold=hold,
    )

    assert errors == [] and blocked == 1 and outcomes == ["ok", "ok"]
    assert Membership.objects.filter(user=person, program=program, role=Membership.Role.COORDINATOR).count() == 1
    assert AuditEntry.objects.filter(action="program.coordinator_add", program=program).count() == 1
