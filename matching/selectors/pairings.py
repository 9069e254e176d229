"""A program's pairings, for its coordinators: the list the page, its CSV export and the API
share, and whom a coordinator may pair.

A pairing is *stale* when it is active and has no meeting held or confirmed in the last
``STALE_AFTER`` (60 days), counting from its start when it has had none. A confirmed meeting
still ahead counts as recent: the pair has booked. (The program health page and the
coordinators' digest count the same.)

A pairing *breaks a conflict* when it is active and a conflict of interest now forbids it: a
do-not-pair entry for the pair, or an evaluator role of the mentor in a program where the
resident is a resident, without a pairing exception (``matching.conflicts``, as rows). Such
a pairing can only predate the entry: starting one is refused.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import Combinable
from django.utils import timezone

from accounts.models import Membership, MentorProfile, Program, User

from ..models import ConflictOfInterest, EvaluatorRole, Meeting, Mentorship, PairingException
from .directory import mentor_directory

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

STALE_AFTER = timedelta(days=60)
MET = (Meeting.Status.HELD, Meeting.Status.CONFIRMED)


class PairingAnnotations(TypedDict):
    last_meeting_at: datetime | None
    next_meeting_at: datetime | None
    is_stale: bool
    breaks_do_not_pair: bool
    breaks_evaluator_role: bool
    breaks_conflict: bool


def _stale(now: datetime) -> Q | Combinable:
    recent = Meeting.objects.filter(mentorship=OuterRef("pk"), status__in=MET, start__gte=now - STALE_AFTER)
    return Q(status=Mentorship.Status.ACTIVE, started_at__lt=now - STALE_AFTER) & ~Exists(recent)


def _breaks_do_not_pair() -> Q | Combinable:
    entry = ConflictOfInterest.objects.filter(mentee_id=OuterRef("mentee_id"), mentor_id=OuterRef("mentor_id"))
    return Q(status=Mentorship.Status.ACTIVE) & Exists(entry)


def _breaks_evaluator_role() -> Q | Combinable:
    role = EvaluatorRole.objects.filter(
        user_id=OuterRef("mentor_id"),
        program__memberships__user_id=OuterRef("mentee_id"),
        program__memberships__role=Membership.Role.RESIDENT,
    )
    allowed = PairingException.objects.filter(mentee_id=OuterRef("mentee_id"), mentor_id=OuterRef("mentor_id"))
    return Q(status=Mentorship.Status.ACTIVE) & Exists(role) & ~Exists(allowed)


def with_flags(mentorships: QuerySet[Mentorship], *, now: datetime) -> QuerySet[Any]:
    """``is_stale`` and the conflict flags (see the module's docstring), as subqueries: no
    query per row, and filterable (the list's filters, the dashboard's counts)."""
    return mentorships.annotate(
        is_stale=ExpressionWrapper(_stale(now), output_field=BooleanField()),
        breaks_do_not_pair=ExpressionWrapper(_breaks_do_not_pair(), output_field=BooleanField()),
        breaks_evaluator_role=ExpressionWrapper(_breaks_evaluator_role(), output_field=BooleanField()),
    ).annotate(
        breaks_conflict=ExpressionWrapper(
            Q(breaks_do_not_pair=True) | Q(breaks_evaluator_role=True), output_field=BooleanField()
        )
    )


def pairings_of(
    program: Program, *, now: datetime | None = None
) -> "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]":
    """Every mentorship of ``program``, by resident, each with ``last_meeting_at`` (the latest
    meeting held or confirmed that has started), ``next_meeting_at`` (the next confirmed one),
    ``is_stale`` and the conflict flags ``breaks_do_not_pair``, ``breaks_evaluator_role`` and
    ``breaks_conflict`` (see the module's docstring)."""
    now = now or timezone.now()
    met = Meeting.objects.filter(mentorship=OuterRef("pk"), status__in=MET)
    return (
        with_flags(Mentorship.objects.filter(program=program), now=now)
        .select_related("mentee__mentee_profile__career_stage", "mentor")
        .annotate(
            last_meeting_at=Subquery(met.filter(start__lte=now).order_by("-start").values("start")[:1]),
            next_meeting_at=Subquery(met.filter(start__gt=now).order_by("start").values("start")[:1]),
        )
        .order_by("mentee__last_name", "mentee__first_name", "mentee_id", "kind", "-started_at", "-pk")
    )


def residents_of(program: Program) -> QuerySet[User]:
    """The program's active residents, by name, with their PGY year."""
    return (
        User.objects.filter(memberships__program=program, memberships__role=Membership.Role.RESIDENT, is_active=True)
        .select_related("mentee_profile__career_stage")
        .order_by("last_name", "first_name", "pk")
    )


def mentors_with_open_spots(program: Program) -> list[MentorProfile]:
    """Faculty of ``program`` (near-peer mentors included) who accept mentees and have a spot
    free, each with ``open_spots``: whom a coordinator may pair a resident with."""
    return list(
        mentor_directory()
        .filter(user__memberships__program=program, user__memberships__role=Membership.Role.FACULTY)
        .filter(accepting_mentees=True, open_spots__gt=0)
        .prefetch_related(None)
    )


def mentor_choices(program: Program) -> QuerySet[User]:
    """Whom the list may be narrowed to: the program's faculty mentors, and anyone who has
    mentored in it. Nobody from another program."""
    return User.objects.filter(
        Q(pk__in=Mentorship.objects.filter(program=program).values("mentor_id"))
        | Q(
            pk__in=Membership.objects.filter(program=program, role=Membership.Role.FACULTY).values("user_id"),
            mentor_profile__isnull=False,
        )
    ).order_by("last_name", "first_name", "pk")
