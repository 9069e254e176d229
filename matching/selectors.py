"""Reads for mentorships, scoped to the person asking; pages and the API share them."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import AvailabilityWindow, MentorProfile, User

from .models import (
    ActionItem,
    CheckIn,
    Introduction,
    MatchRanking,
    MatchRun,
    Meeting,
    Mentorship,
    MentorshipRequest,
    Resource,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def requests_for(user: User) -> QuerySet[MentorshipRequest]:
    """Requests ``user`` sent or received."""
    return MentorshipRequest.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related(
        "mentee", "mentor", "program"
    )


def mentorships_for(user: User) -> QuerySet[Mentorship]:
    """Mentorships ``user`` is a party to."""
    return Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related("mentee", "mentor", "program")


# --- Requests: the lists on /requests/ and /api/v1/requests/, and the dashboards.

# Which side of a request a list shows: requests I sent, I received, or my programs' (coordinators).
REQUEST_ROLES = {"received": "Received", "sent": "Sent", "program": "My programs"}
# Status tabs; "closed" gathers the ways a request ends without an answer.
REQUEST_STATUS_GROUPS = {
    "pending": [MentorshipRequest.Status.PENDING],
    "accepted": [MentorshipRequest.Status.ACCEPTED],
    "declined": [MentorshipRequest.Status.DECLINED],
    "closed": [MentorshipRequest.Status.WITHDRAWN, MentorshipRequest.Status.EXPIRED, MentorshipRequest.Status.CLOSED],
}


def _waiting_for(user: User) -> Case:
    """True on a pending request whose next move is ``user``'s: the mentor answers unless a
    question is open; the mentee answers an open question."""
    from django.db.models import BooleanField, Case, Value, When

    pending = Q(status=MentorshipRequest.Status.PENDING)
    open_question = ~Q(question="") & Q(answer="")
    return Case(
        When(pending & Q(mentor=user) & ~open_question, then=Value(True)),
        When(pending & Q(mentee=user) & open_question, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def requests_visible_to(user: User) -> QuerySet[MentorshipRequest]:
    """Requests ``user`` sent, received, or that belong to a program they coordinate."""
    from accounts.models import Membership

    coordinated = Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR).values("program_id")
    return MentorshipRequest.objects.filter(
        Q(mentee=user) | Q(mentor=user) | Q(program_id__in=coordinated)
    ).select_related("mentee", "mentor", "program")


def request_list(user: User, *, role: str = "", status: str = "") -> QuerySet[MentorshipRequest]:
    """One side of ``user``'s requests (``role``: sent, received, program; empty: all they
    may see), narrowed to a status group or a single status. The requests waiting for
    ``user``'s move come first, then the newest."""
    if role == "sent":
        requests = requests_for(user).filter(mentee=user)
    elif role == "received":
        requests = requests_for(user).filter(mentor=user)
    elif role == "program":
        requests = requests_visible_to(user).exclude(Q(mentee=user) | Q(mentor=user))
    else:
        requests = requests_visible_to(user)
    if status in REQUEST_STATUS_GROUPS:
        requests = requests.filter(status__in=REQUEST_STATUS_GROUPS[status])
    elif status:
        requests = requests.filter(status=status)
    return requests.annotate(waiting_for_me=_waiting_for(user)).order_by("-waiting_for_me", "-created_at", "-id")


def request_counts(requests: QuerySet[MentorshipRequest]) -> dict[str, int]:
    """How many of ``requests`` fall in each status tab, in one query."""
    from django.db.models import Count

    return requests.order_by().aggregate(
        **{group: Count("pk", filter=Q(status__in=statuses)) for group, statuses in REQUEST_STATUS_GROUPS.items()}
    )


def requests_for_page() -> QuerySet[MentorshipRequest]:
    """Requests with what a request's page shows: both people, the program, the mentee's
    profile (the mentor reads it before answering) and the mentorship it started. Unscoped:
    the page asks ``matching.view_request`` of the one it loads."""
    return MentorshipRequest.objects.select_related(
        "mentee__mentee_profile__career_stage", "mentor__mentor_profile", "program", "mentorship"
    ).prefetch_related("mentee__mentee_profile__goals")


# --- The mentor directory: mentors with the spots their active mentorships leave them.


def _active_mentee_count(user_ref: str) -> Coalesce:
    """A subquery counting the active mentorships of the mentor ``user_ref`` points at."""
    active = (
        Mentorship.objects.filter(mentor=OuterRef(user_ref), status=Mentorship.Status.ACTIVE)
        .order_by()
        .values("mentor")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(active), 0)


class MentorSpots(TypedDict):
    active_mentee_count: int
    open_spots: int


def mentor_directory() -> "QuerySet[WithAnnotations[MentorProfile, MentorSpots]]":
    """Mentor profiles every signed-in user may browse, each with ``active_mentee_count``
    and ``open_spots`` (capacity left, never below 0) counted in the same query.

    A caller that scores every row rather than showing a page (a resident against the whole
    directory) should read it as plain rows (``matching.recommendations.mentor_records``),
    and load only the cards it shows with ``mentor_cards``: building thousands of profile
    instances, let alone prefetching five relations for each, costs most of a second."""
    return (
        MentorProfile.objects.filter(user__is_active=True)
        .annotate(active_mentee_count=_active_mentee_count("user_id"))
        .annotate(open_spots=Greatest(F("capacity") - F("active_mentee_count"), 0))
        .select_related("user", "specialty", "subspecialty", "academic_rank", "career_stage")
        .prefetch_related(
            "expertise",
            "interests",
            "languages",
            "meeting_formats",
            Prefetch("user__availability", queryset=AvailabilityWindow.objects.order_by("weekday", "start")),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )


def mentor_cards(profile_ids: Iterable[int]) -> "dict[int, WithAnnotations[MentorProfile, MentorSpots]]":
    """{profile id: profile} for the directory cards of these profiles, as ``mentor_directory()``
    loads them (counts annotated, relations prefetched); profiles that left the directory since
    their ids were read are missing."""
    return mentor_directory().in_bulk(list(profile_ids))


def person(pk: int) -> User:
    """One person; a mentor comes with ``active_mentee_count`` and ``open_spots``, as in the directory."""
    return (
        User.objects.select_related(
            "mentee_profile__career_stage",
            "mentor_profile__specialty",
            "mentor_profile__subspecialty",
            "mentor_profile__academic_rank",
            "mentor_profile__career_stage",
        )
        .annotate(active_mentee_count=_active_mentee_count("pk"))
        .annotate(open_spots=Greatest(F("mentor_profile__capacity") - F("active_mentee_count"), 0))
        .get(pk=pk)
    )


# --- Dashboards. Each is one query (joined, sliced); none runs per row.

DASHBOARD_ROWS = 5


def active_mentorships_as_mentee(user: User) -> QuerySet[Mentorship]:
    return (
        Mentorship.objects.filter(mentee=user, status=Mentorship.Status.ACTIVE)
        .select_related("mentor__mentor_profile__specialty", "mentor__mentor_profile__academic_rank")
        .order_by("kind", "-started_at")
    )


def active_mentorships_as_mentor(user: User) -> QuerySet[Mentorship]:
    return (
        Mentorship.objects.filter(mentor=user, status=Mentorship.Status.ACTIVE)
        .select_related("mentee__mentee_profile__career_stage")
        .order_by("mentee__last_name", "mentee__first_name", "pk")
    )


def pending_requests_sent(user: User) -> QuerySet[MentorshipRequest]:
    return request_list(user, role="sent", status="pending")


def pending_requests_received(user: User) -> QuerySet[MentorshipRequest]:
    """Pending requests to ``user``; those waiting for their answer first."""
    return request_list(user, role="received", status="pending")


def upcoming_meetings_for(user: User, *, now: datetime | None = None) -> QuerySet[Meeting]:
    """Confirmed meetings still ahead in ``user``'s active mentorships, soonest first."""
    from django.utils import timezone

    from .models import Meeting

    return (
        Meeting.objects.filter(
            Q(mentorship__mentee=user) | Q(mentorship__mentor=user),
            mentorship__status=Mentorship.Status.ACTIVE,
            status=Meeting.Status.CONFIRMED,
            start__gte=now or timezone.now(),
        )
        .select_related("mentorship__mentee", "mentorship__mentor")
        .order_by("start", "pk")
    )


def open_action_items_for(user: User) -> QuerySet[ActionItem]:
    """Goals ``user`` owns that are still open, in active mentorships: overdue and soonest due first."""
    from django.db.models import F

    from .models import ActionItem

    return (
        ActionItem.objects.filter(
            owner=user,
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS],
            mentorship__status=Mentorship.Status.ACTIVE,
        )
        .select_related("mentorship__mentor", "mentorship__mentee")
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )


# --- Meetings.


def _meetings_base() -> QuerySet[Meeting]:
    from .models import Meeting

    return Meeting.objects.select_related(
        "mentorship__mentee", "mentorship__mentor", "mentorship__program", "proposed_by", "cancelled_by"
    ).prefetch_related("slots")


def meetings_for(user: User) -> QuerySet[Meeting]:
    """Meetings ``user`` may see: their own mentorships' and, for a coordinator, their
    programs' (the rule ``matching.view_mentorship``)."""
    from accounts.models import Membership

    coordinated = Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR).values("program_id")
    return _meetings_base().filter(
        Q(mentorship__mentee=user) | Q(mentorship__mentor=user) | Q(mentorship__program_id__in=coordinated)
    )


def meetings_of(mentorship: Mentorship) -> QuerySet[Meeting]:
    """One mentorship's meetings, annotated ``is_upcoming`` (proposed, or confirmed and
    not yet started): upcoming first, soonest first; then the rest, latest first."""
    from django.db.models import BooleanField, Case, F, Value, When
    from django.utils import timezone

    from .models import Meeting

    upcoming = Q(status=Meeting.Status.PROPOSED) | Q(status=Meeting.Status.CONFIRMED, start__gt=timezone.now())
    return (
        _meetings_base()
        .filter(mentorship=mentorship)
        .annotate(
            is_upcoming=Case(When(upcoming, then=Value(True)), default=Value(False), output_field=BooleanField()),
            upcoming_start=Case(When(upcoming, then=F("start"))),
            past_start=Case(When(~upcoming, then=F("start"))),
        )
        .order_by(
            "-is_upcoming",
            F("upcoming_start").asc(nulls_first=True),
            F("past_start").desc(nulls_last=True),
            "-created_at",
            "-id",
        )
    )


# --- Mentorship pages (the pair's shared page, the action plan, resources, introductions).


def mentorships_for_page(user: User) -> QuerySet[Mentorship]:
    """``user``'s mentorships, active first, then past ones, newest first within each."""
    from django.db.models import Case, IntegerField, Value, When

    return (
        mentorships_for(user)
        .select_related("agreement")
        .annotate(
            _past=Case(
                When(status=Mentorship.Status.ACTIVE, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("_past", "-started_at", "-id")
    )


def mentorships_with_details() -> QuerySet[Mentorship]:
    """Mentorships with what a mentorship's page shows at the top. Unscoped: the page asks
    ``matching.view_mentorship`` of the one it loads."""
    return Mentorship.objects.select_related("mentee", "mentor", "program", "agreement", "ended_by")


def action_plan_of(mentorship: Mentorship) -> QuerySet[ActionItem]:
    """Goals: open and in progress first (soonest due first, undated last), then done and dropped."""
    from django.db.models import Case, F, IntegerField, Value, When

    from .models import ActionItem

    open_statuses = [ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS]
    return (
        ActionItem.objects.filter(mentorship=mentorship)
        # The API shows who created each goal as well as who owns it.
        .select_related("owner", "created_by")
        .annotate(
            _closed=Case(When(status__in=open_statuses, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("_closed", F("due_date").asc(nulls_last=True), "id")
    )


def resources_of(mentorship: Mentorship) -> QuerySet[Resource]:
    from .models import Resource

    return Resource.objects.filter(mentorship=mentorship).select_related("shared_by")


def introductions_made_in(mentorship: Mentorship) -> QuerySet[Introduction]:
    """Introductions the mentor made for the mentee in this mentorship."""
    from .models import Introduction

    return Introduction.objects.filter(mentorship=mentorship).select_related("colleague")


def introductions_received_by(user: User) -> QuerySet[Introduction]:
    """Introductions to ``user`` as the colleague: pending first, then answered."""
    from django.db.models import Case, IntegerField, Value, When

    from .models import Introduction

    return (
        Introduction.objects.filter(colleague=user)
        .select_related("mentorship__mentee", "mentorship__mentor", "mentorship__program")
        .annotate(
            _answered=Case(
                When(status=Introduction.Status.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("_answered", "-created_at", "-id")
    )


def colleagues_to_introduce(mentorship: Mentorship) -> QuerySet[User]:
    """Mentors in the directory the mentee could be introduced to: not the pair themselves."""
    from accounts.models import User

    return (
        User.objects.filter(is_active=True, mentor_profile__isnull=False)
        .exclude(pk__in=[mentorship.mentee_id, mentorship.mentor_id])
        .select_related("mentor_profile__specialty")
        .order_by("last_name", "first_name", "pk")
    )


def own_checkins(mentorship: Mentorship, user: User) -> QuerySet[CheckIn]:
    """The check-ins ``user`` wrote in this mentorship, for their own "you checked in on" line.
    Nobody else's check-ins are ever read for a party."""
    from .models import CheckIn

    return CheckIn.objects.filter(mentorship=mentorship, author=user)


def with_my_last_checkin(mentorships: QuerySet[Mentorship], user: User) -> QuerySet[Mentorship]:
    """Annotate ``my_last_checkin_at``: when ``user`` last checked in (the date only, never the answers)."""
    from django.db.models import OuterRef, Subquery

    from .models import CheckIn

    latest = (
        CheckIn.objects.filter(mentorship=OuterRef("pk"), author=user).order_by("-created_at").values("created_at")[:1]
    )
    return mentorships.annotate(my_last_checkin_at=Subquery(latest))


# --- Match runs: the ranking windows a person is invited to.


def open_ranking_windows_for(user: User) -> QuerySet[MatchRun]:
    """Runs whose ranking window is open and whose cohort includes ``user``, soonest
    deadline first, each with ``has_ranked`` (whether ``user`` saved a ranking yet)."""
    return (
        MatchRun.objects.filter(status=MatchRun.Status.QUEUED, ranking_deadline__gt=timezone.now())
        .filter(
            Q(pk__in=MatchRun.mentees.through.objects.filter(user=user).values("matchrun_id"))
            | Q(pk__in=MatchRun.mentors.through.objects.filter(user=user).values("matchrun_id"))
        )
        .select_related("program")
        .annotate(has_ranked=Exists(MatchRanking.objects.filter(run=OuterRef("pk"), author=user)))
        .order_by("ranking_deadline", "pk")
    )
