"""Permission rules for people and programs: the one place pages and the API ask.

Predicates take (user, object). Permissions are named ``accounts.<action>_<thing>``
and checked with ``user.has_perm(name, obj)`` in views, DRF permission classes
and templates alike.
"""

import rules

from .models import Membership


@rules.predicate
def coordinates_program(user, program):
    if program is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, program=program, role=Membership.Role.COORDINATOR).exists()


@rules.predicate
def is_coordinator(user):
    return user.is_authenticated and Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR).exists()


@rules.predicate
def is_self(user, other):
    return other is not None and user.is_authenticated and user.pk == other.pk


@rules.predicate
def owns_profile(user, profile):
    return profile is not None and user.is_authenticated and profile.user_id == user.pk


@rules.predicate
def coordinates_a_program_of(user, other):
    """The user coordinates a program that ``other`` belongs to."""
    if other is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user, role=Membership.Role.COORDINATOR, program__memberships__user=other
    ).exists()


@rules.predicate
def is_mentor(user, other):
    """``other`` has a mentor profile: mentors are listed in the directory for every signed-in user."""
    return other is not None and hasattr(other, "mentor_profile")


@rules.predicate
def is_signed_in(user):
    return user.is_authenticated


rules.add_perm("accounts.view_program", coordinates_program)
rules.add_perm("accounts.manage_roster", coordinates_program)
rules.add_perm("accounts.coordinate", is_coordinator)
rules.add_perm("accounts.view_person", is_self | coordinates_a_program_of | (is_signed_in & is_mentor))
# Who a message may name: the person themselves, or a coordinator of one of their programs.
# Narrower than view_person on purpose: a refusal about an id typed into one program's form
# must not turn a person of another program into a name (issue 11), directory mentors included.
rules.add_perm("accounts.name_person", is_self | coordinates_a_program_of)
rules.add_perm("accounts.change_person", is_self)
rules.add_perm("accounts.change_profile", owns_profile)
rules.add_perm("accounts.browse_mentors", is_signed_in)


@rules.predicate
def is_resident(user):
    return user.is_authenticated and (
        Membership.objects.filter(user=user, role=Membership.Role.RESIDENT).exists() or hasattr(user, "mentee_profile")
    )


@rules.predicate
def is_faculty(user):
    return user.is_authenticated and (
        Membership.objects.filter(user=user, role=Membership.Role.FACULTY).exists() or hasattr(user, "mentor_profile")
    )


# Residents keep a mentee profile; faculty (and near-peer mentors, who hold a faculty
# membership too) keep a mentor profile.
rules.add_perm("accounts.have_mentee_profile", is_resident)
rules.add_perm("accounts.have_mentor_profile", is_faculty)


def person_named(viewer, person) -> str:
    """How a message to ``viewer`` refers to ``person``: their name if ``viewer`` may name
    them (``accounts.name_person``), else by id, which the viewer typed themselves."""
    if viewer is not None and viewer.has_perm("accounts.name_person", person):
        return person.full_name
    return f"person #{person.pk}"


# --- Institution administrators (issue 15): begin
from .models import InstitutionRole  # noqa: E402  (kept inside this block: the rest of the file is others')


@rules.predicate
def administers_institution(user, institution):
    """An administrator role at ``institution`` (accounts.InstitutionRole); superusers too.
    Coordinating one of its programs is not enough."""
    if institution is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return InstitutionRole.objects.filter(institution=institution, user=user, role=InstitutionRole.Role.ADMIN).exists()


rules.add_perm("accounts.administer_institution", administers_institution)
# --- Institution administrators (issue 15): end
