"""The dashboard (the home page). Each list is one query (joined, sliced); none runs per row."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.bounds import format_instant

from ..models import ActionItem, CheckIn, MatchRanking, MatchRun, Meeting, Mentorship, MentorshipRequest
from ..periodic import CHECKIN_FIRST_AFTER
from ..scheduling import meeting_url
from ..services.plan import checkin_month_start
from .requests import request_list

DASHBOARD_ROWS = 5


def _with_meetings_flag(mentorships: QuerySet[Mentorship]) -> QuerySet[Mentorship]:
    """``has_meetings``: a meeting proposed, planned or held (not only cancelled ones)."""
    meetings = Meeting.objects.filter(mentorship=OuterRef("pk")).exclude(status=Meeting.Status.CANCELLED)
    return mentorships.annotate(has_meetings=Exists(meetings))


def active_mentorships_as_mentee(user: User) -> QuerySet[Mentorship]:
    return (
        _with_meetings_flag(Mentorship.objects.filter(mentee=user, status=Mentorship.Status.ACTIVE))
        .select_related("mentor__mentor_profile__specialty", "mentor__mentor_profile__academic_rank")
        .order_by("kind", "-started_at")
    )


def active_mentorships_as_mentor(user: User) -> QuerySet[Mentorship]:
    return (
        _with_meetings_flag(Mentorship.objects.filter(mentor=user, status=Mentorship.Status.ACTIVE))
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

    return (
        ActionItem.objects.filter(
            owner=user,
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS],
            mentorship__status=Mentorship.Status.ACTIVE,
        )
        .select_related("mentorship__mentor", "mentorship__mentee")
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )


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
        .annotate(as_mentee=Exists(MatchRun.mentees.through.objects.filter(matchrun_id=OuterRef("pk"), user=user)))
        .order_by("ranking_deadline", "pk")
    )


# --- What waits for the person: the dashboard's "Waiting for you".

MENTEE_HAT = "mentee"
MENTOR_HAT = "mentor"


@dataclass(frozen=True)
class Task:
    """One thing that needs the person, in one of their hats (as mentee or as mentor)."""

    hat: str
    kind: str  # pick_time, first_meeting, overdue_goal, answer_request, answer_question, rank, check_in
    text: str
    url: str
    detail: str = ""


def meetings_to_pick(user: User) -> QuerySet[Meeting]:
    """Meetings the other person proposed in ``user``'s active mentorships: ``user`` picks a time."""
    return (
        Meeting.objects.filter(
            Q(mentorship__mentee=user) | Q(mentorship__mentor=user),
            mentorship__status=Mentorship.Status.ACTIVE,
            status=Meeting.Status.PROPOSED,
        )
        .exclude(proposed_by=user)
        .select_related("mentorship__mentee", "mentorship__mentor")
        .order_by("created_at", "pk")
    )


def checkins_due(user: User, *, now: datetime | None = None) -> QuerySet[Mentorship]:
    """``user``'s active mentorships, begun at least ``CHECKIN_FIRST_AFTER`` ago, with no
    check-in of theirs this calendar month (of their own time zone)."""
    now = now or timezone.now()
    return (
        Mentorship.objects.filter(
            Q(mentee=user) | Q(mentor=user),
            status=Mentorship.Status.ACTIVE,
            started_at__lte=now - CHECKIN_FIRST_AFTER,
        )
        .exclude(
            pk__in=CheckIn.objects.filter(author=user, created_at__gte=checkin_month_start(user, now)).values(
                "mentorship_id"
            )
        )
        .select_related("mentee", "mentor")
        .order_by("started_at", "pk")
    )


def tasks_for(
    user: User,
    *,
    requests: Iterable[Any] | None = None,
    ranking_windows: Iterable[Any] | None = None,
    mentorships: Iterable[Any] = (),
    goals: Iterable[ActionItem] = (),
    now: datetime | None = None,
) -> list[Task]:
    """Everything waiting for ``user``, each with its hat and a link: times to pick, a first
    meeting to plan, overdue goals, requests and questions to answer, rankings not yet saved,
    check-ins due. One query per kind; the dashboard passes what it already loaded: the
    pending ``requests``, ``ranking_windows``, active ``mentorships`` (with ``has_meetings``)
    and ``user``'s open ``goals``."""
    # Annotated rows (``waiting_for_me``, ``has_ranked``, ``as_mentee``): read as Any.
    pending: Iterable[Any] = (
        request_list(user, status="pending")[: DASHBOARD_ROWS * 2] if requests is None else requests
    )  # those waiting for ``user`` come first
    windows: Iterable[Any] = open_ranking_windows_for(user) if ranking_windows is None else ranking_windows
    tasks: list[Task] = []
    for meeting in meetings_to_pick(user)[:DASHBOARD_ROWS]:
        mentorship = meeting.mentorship
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        other = mentorship.other_party(user)
        tasks.append(Task(hat, "pick_time", f"Pick a meeting time with {other.full_name}", meeting_url(meeting)))
    for mentorship in mentorships:
        if mentorship.has_meetings:
            continue
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        tasks.append(
            Task(
                hat,
                "first_meeting",
                f"Plan a first meeting with {mentorship.other_party(user).full_name}",
                reverse("matching:meeting-propose", args=[mentorship.pk]),
                "Propose up to three times",
            )
        )
    for goal in goals:
        if goal.is_overdue:
            mentorship = goal.mentorship
            hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
            tasks.append(
                Task(hat, "overdue_goal", f"Overdue goal: {goal.title}", mentorship.get_absolute_url() + "#plan")
            )
    for request in pending:
        if not request.waiting_for_me:
            continue
        if request.mentor_id == user.pk:
            tasks.append(
                Task(
                    MENTOR_HAT,
                    "answer_request",
                    f"Answer {request.mentee.full_name}'s request",
                    request.get_absolute_url(),
                    f"{request.get_kind_display()} mentorship",
                )
            )
        else:
            tasks.append(
                Task(
                    MENTEE_HAT,
                    "answer_question",
                    f"Answer {request.mentor.full_name}'s question about your request",
                    request.get_absolute_url(),
                )
            )
    for run in windows:
        if run.has_ranked:
            continue
        tasks.append(
            Task(
                MENTEE_HAT if run.as_mentee else MENTOR_HAT,
                "rank",
                f"Rank {'mentors' if run.as_mentee else 'residents'} for {run.program.name}'s "
                f"{run.get_kind_display().lower()} match",
                reverse("matching:match-run-rank", args=[run.pk]),
                f"by {format_instant(run.ranking_deadline, user.time_zone)}" if run.ranking_deadline else "",
            )
        )
    for mentorship in checkins_due(user, now=now)[:DASHBOARD_ROWS]:
        hat = MENTEE_HAT if mentorship.mentee_id == user.pk else MENTOR_HAT
        tasks.append(
            Task(
                hat,
                "check_in",
                f"Check in on your mentorship with {mentorship.other_party(user).full_name}",
                mentorship.get_absolute_url() + "#checkin",
                "One question, a minute; only coordinators see your answer",
            )
        )
    return tasks
