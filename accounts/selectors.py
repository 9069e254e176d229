"""Reads, scoped to the user asking: the querysets pages and the API both show."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, CharField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from .models import (
    ApiToken,
    AvailabilityWindow,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    ProgramInvitation,
    User,
)


def programs_coordinated_by(user: User | AnonymousUser) -> QuerySet[Program]:
    if not user.is_authenticated:
        return Program.objects.none()
    return (
        Program.objects.filter(memberships__user=user, memberships__role=Membership.Role.COORDINATOR)
        .select_related("specialty", "institution")
        .distinct()
    )


def programs_managed_by(user: User | AnonymousUser) -> QuerySet[Program]:
    """The programs whose coordinator pages ``user`` may open, as the Programs page and the
    API's program list show them: every program for a superuser (the rules let a superuser
    into each), the ones they coordinate for anyone else."""
    if user.is_authenticated and user.is_active and user.is_superuser:
        return Program.objects.select_related("specialty", "institution").order_by("name", "pk")
    return programs_coordinated_by(user)


def programs_of(user: User | AnonymousUser) -> QuerySet[Program]:
    if not user.is_authenticated:
        return Program.objects.none()
    return Program.objects.filter(memberships__user=user).select_related("specialty").distinct()


def roles_of(user: User | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user).values_list("role", flat=True))


def roster_of(program: Program) -> QuerySet[Membership]:
    """Residents and faculty of a program (coordinators are staff, not roster), each with
    ``roster_status`` (``roster_status(membership.user)``, worked out in the same query)."""
    return (
        Membership.objects.filter(program=program)
        .exclude(role=Membership.Role.COORDINATOR)
        .select_related("user", "user__mentee_profile__career_stage", "user__mentor_profile__specialty")
        .annotate(
            roster_status=Case(
                *(When(roster_status_q(key, "user__"), then=Value(key)) for key in ROSTER_STATUSES),
                output_field=CharField(),
            )
        )
        .order_by("user__last_name", "user__first_name", "role")
    )


def with_roster_counts(programs: QuerySet[Program]) -> QuerySet[Program]:
    """``programs`` with their head counts, the one definition every page shows: ``resident_count``,
    ``faculty_count``, ``member_count`` (people on the roster, residents and faculty, each person
    once however many roles they hold; coordinators are staff, not roster, as in ``roster_of``)
    and ``awaiting_count`` (people on the roster awaiting their first sign-in: no password of
    their own and never signed in, by SSO either: ``awaits_first_sign_in``).

    Pass a queryset that is not already joined to memberships (a fresh ``Program.objects.filter``),
    or the counts would only count the joined rows."""
    resident, faculty = Membership.Role.RESIDENT, Membership.Role.FACULTY
    on_roster = Q(memberships__role__in=[resident, faculty])
    return programs.annotate(
        resident_count=Count("memberships__user", filter=Q(memberships__role=resident), distinct=True),
        faculty_count=Count("memberships__user", filter=Q(memberships__role=faculty), distinct=True),
        member_count=Count("memberships__user", filter=on_roster, distinct=True),
        awaiting_count=Count(
            "memberships__user",
            filter=on_roster & awaiting_first_sign_in_q("memberships__user__"),
            distinct=True,
        ),
    )


@dataclass(frozen=True)
class Completeness:
    percent: int
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing


def profile_completeness(profile: MenteeProfile | MentorProfile) -> Completeness:
    """How much of a mentee or mentor profile is filled in, and a hint for each gap. One query
    asks whether each list (goals, languages…) and the weekly availability has a row, whatever
    their number; the profile's own fields (a specialty, a bio) are read from it as it is."""
    model = type(profile)
    filled: dict[str, bool] = {}
    has_rows: dict[str, Exists] = {}
    for field, _ in profile.COMPLETENESS:
        if field == "availability":
            has_rows[field] = Exists(AvailabilityWindow.objects.filter(user_id=profile.user_id))
        elif field == "academic_rank_or_stage":
            # Only a mentor profile lists this field.
            filled[field] = isinstance(profile, MentorProfile) and bool(
                profile.academic_rank_id or profile.career_stage_id
            )
        else:
            model_field: Any = model._meta.get_field(field)
            if model_field.many_to_many:
                through = model_field.remote_field.through
                has_rows[field] = Exists(through.objects.filter(**{model_field.m2m_field_name(): OuterRef("pk")}))
            elif model_field.is_relation:
                filled[field] = getattr(profile, model_field.attname) is not None  # the id: no query for the row
            else:
                filled[field] = bool(getattr(profile, field))
    if has_rows:
        # Named "has_<field>": an annotation may not take a field's own name.
        names = list(has_rows)
        found = (
            model.objects.filter(pk=profile.pk)
            .annotate(**{f"has_{name}": has_rows[name] for name in names})
            .values_list(*(f"has_{name}" for name in names))
            .get()
        )
        filled.update(zip(names, map(bool, found), strict=True))
    missing = [hint for field, hint in profile.COMPLETENESS if not filled[field]]
    total = len(profile.COMPLETENESS)
    return Completeness(percent=round(100 * (total - len(missing)) / total), missing=missing)


# --- The signed-in user's own records (the API's /me/ endpoints).


def account_of(user: User) -> User:
    """``user`` reloaded with their memberships (and programs) for a "who am I" answer."""
    return User.objects.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("program").order_by("program__name", "role"))
    ).get(pk=user.pk)


def own_mentee_profile(user: User) -> MenteeProfile | None:
    """``user``'s mentee profile with its vocabularies, or None if they have none yet."""
    return (
        MenteeProfile.objects.filter(user=user)
        .select_related("career_stage")
        .prefetch_related("goals", "interests", "subspecialty_interests", "languages", "meeting_formats")
        .first()
    )


def own_mentor_profile(user: User) -> MentorProfile | None:
    """``user``'s mentor profile with its vocabularies, or None if they have none yet."""
    return (
        MentorProfile.objects.filter(user=user)
        .select_related("specialty", "subspecialty", "academic_rank", "career_stage")
        .prefetch_related("expertise", "interests", "languages", "meeting_formats")
        .first()
    )


def availability_of(user: User) -> QuerySet[AvailabilityWindow]:
    return AvailabilityWindow.objects.filter(user=user).order_by("weekday", "start")


# --- Whether someone has signed in: one rule for the readiness page, the notifications that
# wait for a first sign-in, and the invitations sent again.
#
# Every sign-in goes through Django's ``login()`` (a password, allauth's SSO and its other
# flows alike), which stamps ``last_login``; ``last_seen`` is stamped by every signed-in
# request. A password alone is no sign-in, and an SSO user who never set one has signed in.


def has_signed_in(user: User) -> bool:
    """Has signed in at least once, by any means (SSO counts)."""
    return user.last_login is not None or user.last_seen is not None


def never_signed_in_q(prefix: str = "") -> Q:
    """``not has_signed_in`` as a filter; ``prefix`` reaches the user through a relation ("user__")."""
    return Q(**{f"{prefix}last_login__isnull": True, f"{prefix}last_seen__isnull": True})


def awaits_first_sign_in(user: User) -> bool:
    """Has not taken their account: no password of their own and never signed in. Every link
    but their invitation's asks them for a password they do not have."""
    return not user.has_usable_password() and not has_signed_in(user)


def awaiting_first_sign_in_q(prefix: str = "") -> Q:
    """``awaits_first_sign_in`` as a filter; ``prefix`` reaches the user through a relation ("user__")."""
    return Q(**{f"{prefix}password__startswith": UNUSABLE_PASSWORD_PREFIX}) & never_signed_in_q(prefix)


# A roster member's invitation status, as the roster page, its export, the API and their filter
# name it: active (has taken their account: set a password or signed in, SSO counts), invited
# (link sent, awaiting their first sign-in), not_invited (never sent one).
ROSTER_STATUSES = {"active": "Active", "invited": "Invited", "not_invited": "Not invited"}


def roster_status(user: User) -> str:
    """``user``'s key in ROSTER_STATUSES."""
    if not awaits_first_sign_in(user):
        return "active"
    return "invited" if user.invited_at else "not_invited"


def roster_status_q(status: str, prefix: str = "") -> Q:
    """``roster_status(user) == status`` as a filter; ``prefix`` as in ``never_signed_in_q``."""
    awaiting = awaiting_first_sign_in_q(prefix)
    if status == "active":
        return ~awaiting
    return awaiting & Q(**{f"{prefix}invited_at__isnull": status == "not_invited"})


def roster_search(
    program: Program, *, role: str = "", pgy: str = "", status: str = "", q: str = ""
) -> QuerySet[Membership]:
    """``roster_of(program)`` narrowed by the roster page's filters; the export uses the same list.

    ``pgy`` is a CareerStage code: a resident's PGY year, or a near-peer mentor's stage.
    ``status``: a key of ROSTER_STATUSES (``roster_status``).
    ``q``: every word must appear in the first name, last name or e-mail.
    """
    from core.search import search_terms, word_matches

    members = roster_of(program).select_related(
        "user__mentor_profile__academic_rank", "user__mentor_profile__career_stage"
    )
    if role:
        members = members.filter(role=role)
    if pgy:
        members = members.filter(
            Q(role=Membership.Role.RESIDENT, user__mentee_profile__career_stage__code=pgy)
            | Q(role=Membership.Role.FACULTY, user__mentor_profile__career_stage__code=pgy)
        )
    if status in ROSTER_STATUSES:
        members = members.filter(roster_status_q(status, "user__"))
    for word in search_terms(q):
        members = members.filter(word_matches(word, ["user__first_name", "user__last_name", "user__email"]))
    return members


# --- Invitations to join a program (``accounts.invitations`` makes and answers them).


def pending_invitations_for(user: User) -> QuerySet[ProgramInvitation]:
    """The invitations waiting for ``user``'s answer, newest first."""
    return ProgramInvitation.objects.filter(user=user, status=ProgramInvitation.Status.PENDING).select_related(
        "program__institution", "invited_by"
    )


def pending_invitations_of(program: Program) -> QuerySet[ProgramInvitation]:
    """A program's unanswered invitations: what its coordinators typed, nothing of the person."""
    return ProgramInvitation.objects.filter(program=program, status=ProgramInvitation.Status.PENDING).order_by(
        "last_name", "first_name", "pk"
    )


def api_tokens_of(user: User | AnonymousUser, *, now: datetime | None = None) -> QuerySet[ApiToken]:
    """The user's API tokens that have not expired, newest first: the account page lists them,
    the API too, and only these can be revoked one by one. (Expired rows linger until the
    user's next token clears them; they work for no one.)"""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user, expires_at__gt=now or timezone.now()).order_by("-created_at", "-pk")
