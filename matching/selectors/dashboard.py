"""The dashboard (the home page). Each list is one query (joined, sliced); none runs per row."""

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User

from ..models import ActionItem, MatchRanking, MatchRun, Meeting, Mentorship, MentorshipRequest
from .requests import request_list

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
        .order_by("ranking_deadline", "pk")
    )
