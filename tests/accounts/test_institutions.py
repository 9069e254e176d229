"""Institution administrators' services (accounts/institutions.py): who may create and edit
programs and name coordinators, and the plain refusals of absurd values."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.institutions import (
    institution_admin_add,
    institution_admin_remove,
    institution_programs,
    institutions_administered_by,
    program_coordinator_add,
    program_coordinator_added,
    program_coordinator_remove,
    program_create,
    program_update,
)
from accounts.models import InstitutionRole, Membership, Program, Specialty, User
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _create(institution, actor, **overrides):
    values = {"name": "Surgery Residency", "specialty": Specialty.objects.get(slug="general-surgery")}
    values["time_zone"] = "America/Chicago"
    values.update(overrides)
    return program_create(institution=institution, actor=actor, **values)


# --- Who may.


def test_an_administrator_creates_a_program_of_their_institution_audited(hospital, admin):
    program = _create(hospital, admin)
    assert (program.institution, program.slug, program.time_zone) == (hospital, "surgery-residency", "America/Chicago")
    entry = AuditEntry.objects.get(action="program.create")
    assert entry.actor == admin and entry.program == program


def test_a_superuser_passes_the_rule_without_a_role(hospital):
    root = User.objects.create_superuser("root@hospital.example", "pw-long-enough-123", first_name="R", last_name="S")
    assert _create(hospital, root).pk
    assert hospital in institutions_administered_by(root)


@pytest.mark.parametrize("who", ["coordinator", "resident", "other_admin", "outsider"])
def test_coordinators_members_and_other_institutions_admins_may_not(request, hospital, program, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _create(hospital, actor)
    with pytest.raises(PermissionDenied):
        program_update(program=program, actor=actor, name="X", specialty=program.specialty, time_zone="UTC")
    with pytest.raises(PermissionDenied):
        program_coordinator_add(program=program, actor=actor, email=actor.email)
    with pytest.raises(PermissionDenied):
        institution_admin_add(institution=hospital, actor=actor, email=actor.email)
    assert not Program.objects.filter(name="Surgery Residency").exists()
    assert not InstitutionRole.objects.filter(user=actor).exclude(institution__programs__slug="gs").exists()


def test_an_admin_of_one_institution_does_not_administer_another(admin, other_program):
    assert admin.has_perm("accounts.administer_institution", other_program.institution) is False
    assert list(institutions_administered_by(admin)) == [admin.institution_roles.get().institution]


# --- Double submits and absurd values.


def test_a_double_submit_creates_one_program(hospital, admin):
    _create(hospital, admin)
    with pytest.raises(ValidationError) as refused:
        _create(hospital, admin)
    assert "already has a program called “Surgery Residency”" in refused.value.message_dict["name"][0]
    assert Program.objects.filter(institution=hospital, name="Surgery Residency").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "x" * 500}, "name", "at most 200 characters (this one has 500)"),
        ({"name": "   "}, "name", "Give the program a name"),
        ({"name": "internal medicine residency"}, "name", "already has a program called"),  # the fixture's, any case
        ({"time_zone": "Mars/Base"}, "time_zone", "“Mars/Base” is not a time zone we know"),
        ({"specialty": None}, "specialty", "ACGME list"),
        ({"slug": "im"}, "slug", "“im” is taken"),
        ({"slug": "Not a slug!"}, "slug", "lower-case letters, digits and hyphens"),
    ],
)
def test_absurd_values_are_refused_beside_the_field(hospital, admin, overrides, field, words):
    with pytest.raises(ValidationError) as refused:
        _create(hospital, admin, **overrides)
    assert words in " ".join(refused.value.message_dict[field])
    assert not Program.objects.filter(institution=hospital).exclude(slug="im").exists()


def test_a_subspecialty_is_not_a_program_specialty(hospital, admin):
    sub = Specialty.objects.filter(parent__isnull=False).first()
    with pytest.raises(ValidationError) as refused:
        _create(hospital, admin, specialty=sub)
    assert "specialty" in refused.value.message_dict


def test_a_derived_slug_that_another_institution_holds_gets_a_number(hospital, admin, other_program):
    program = _create(hospital, admin, name="GS")  # other_program's slug is "gs"
    assert program.slug == "gs-2"


def test_editing_keeps_the_slug_and_audits_only_what_changed(program, admin, surgery):
    program_update(program=program, actor=admin, name="Surgery", specialty=surgery, time_zone=program.time_zone)
    program.refresh_from_db()
    assert (program.slug, program.name, program.specialty) == ("im", "Surgery", surgery)
    entry = AuditEntry.objects.get(action="program.update")
    assert set(entry.after) == {"name", "specialty"} and entry.before["name"] == "Internal Medicine Residency"


def test_editing_to_another_programs_name_or_mars_is_refused(program, admin, hospital):
    _create(hospital, admin)
    with pytest.raises(ValidationError) as refused:
        program_update(
            program=program, actor=admin, name="Surgery Residency", specialty=program.specialty, time_zone="Mars/Base"
        )
    assert set(refused.value.message_dict) == {"name", "time_zone"}


def test_the_programs_list_counts_people_once_and_names_coordinators(program, admin, coordinator, resident, attending):
    Membership.objects.create(user=coordinator, program=program, role=Membership.Role.FACULTY)
    (row,) = institution_programs(program.institution)
    assert row.member_count == 3
    assert [m.user for m in row.coordinator_memberships] == [coordinator]


# --- Coordinators.


def test_adding_an_existing_person_makes_them_coordinator_and_announces_it(program, admin, resident):
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    program_coordinator_added.connect(receiver)
    try:
        result = program_coordinator_add(program=program, actor=admin, email="ALICE@hospital.example")
    finally:
        program_coordinator_added.disconnect(receiver)
    assert result.added and not result.account_created and result.user == resident
    assert resident.has_perm("accounts.manage_roster", program)
    assert heard and heard[0]["membership"].user == resident and heard[0]["actor"] == admin
    assert AuditEntry.objects.get(action="program.coordinator_add").program == program
    # matching tells them (MatchingConfig.ready connects the receiver), once.
    from matching.models import Notification

    told = Notification.objects.get(user=resident, event="program.coordinator_added")
    assert told.title == f"You now coordinate {program.name}"
    again = program_coordinator_add(program=program, actor=admin, email=resident.email)
    assert not again.added and Membership.objects.filter(user=resident, role="coordinator").count() == 1


def test_an_unknown_address_gets_an_account_and_the_invitation(program, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = program_coordinator_add(
            program=program, actor=admin, email="newcoord@hospital.example", first_name="Nina", last_name="New"
        )
    assert result.account_created and not result.user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["newcoord@hospital.example"]]
    assert "Internal Medicine Residency" in mail.outbox[0].subject
    assert "Ada Admin" in mail.outbox[0].body


def test_an_unknown_address_without_a_name_or_a_bad_address_is_refused(program, admin):
    with pytest.raises(ValidationError) as refused:
        program_coordinator_add(program=program, actor=admin, email="nobody@hospital.example")
    assert set(refused.value.message_dict) == {"first_name", "last_name"}
    with pytest.raises(ValidationError) as refused:
        program_coordinator_add(program=program, actor=admin, email="not an address")
    assert "email" in refused.value.message_dict
    assert not User.objects.filter(email="nobody@hospital.example").exists()


def test_the_last_coordinator_stays(program, admin, coordinator, resident):
    with pytest.raises(ValidationError, match="only coordinator"):
        program_coordinator_remove(program=program, actor=admin, user=coordinator)
    program_coordinator_add(program=program, actor=admin, email=resident.email)
    program_coordinator_remove(program=program, actor=admin, user=coordinator)
    assert not coordinator.has_perm("accounts.manage_roster", program)
    assert AuditEntry.objects.filter(action="program.coordinator_remove").count() == 1


def test_a_coordinator_cannot_remove_a_fellow_coordinator(program, admin, coordinator, resident):
    program_coordinator_add(program=program, actor=admin, email=resident.email)
    with pytest.raises(PermissionDenied):
        program_coordinator_remove(program=program, actor=coordinator, user=resident)


# --- Administrators.


def test_admins_add_others_and_the_last_one_stays(hospital, admin, attending):
    with pytest.raises(ValidationError, match="You are the only administrator"):
        institution_admin_remove(institution=hospital, actor=admin, user=admin)
    institution_admin_add(institution=hospital, actor=admin, email=attending.email)
    assert attending.has_perm("accounts.administer_institution", hospital)
    institution_admin_remove(institution=hospital, actor=attending, user=admin)
    assert not admin.has_perm("accounts.administer_institution", hospital)
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == [
        "institution.admin_add",
        "institution.admin_remove",
    ]
