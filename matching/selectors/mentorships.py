"""Mentorship pages: the pair's shared page, the action plan, resources, introductions, check-ins."""

from datetime import datetime

from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import User

from ..models import ActionItem, Agreement, CheckIn, Introduction, Mentorship, Resource
from ..periodic import CHECKIN_FIRST_AFTER
from ..services.plan import checkin_month_start


def mentorships_for(user: User) -> QuerySet[Mentorship]:
    """Mentorships ``user`` is a party to."""
    return Mentorship.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related("mentee", "mentor", "program")


def mentorships_for_page(user: User) -> QuerySet[Mentorship]:
    """``user``'s mentorships, active first, then past ones, newest first within each."""
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
    return Resource.objects.filter(mentorship=mentorship).select_related("shared_by")


def introductions_made_in(mentorship: Mentorship) -> QuerySet[Introduction]:
    """Introductions the mentor made for the mentee in this mentorship."""
    return Introduction.objects.filter(mentorship=mentorship).select_related("colleague")


def introductions_received_by(user: User) -> QuerySet[Introduction]:
    """Introductions to ``user`` as the colleague: pending first, then answered."""

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
    return (
        User.objects.filter(is_active=True, mentor_profile__isnull=False)
        .exclude(pk__in=[mentorship.mentee_id, mentorship.mentor_id])
        .select_related("mentor_profile__specialty")
        .order_by("last_name", "first_name", "pk")
    )


def own_checkins(mentorship: Mentorship, user: User) -> QuerySet[CheckIn]:
    """The check-ins ``user`` wrote in this mentorship, for their own "you checked in on" line.
    Nobody else's check-ins are ever read for a party."""
    return CheckIn.objects.filter(mentorship=mentorship, author=user)


def with_my_last_checkin(mentorships: QuerySet[Mentorship], user: User) -> QuerySet[Mentorship]:
    """Annotate ``my_last_checkin_at``: when ``user`` last checked in (the date only, never the answers)."""

    latest = (
        CheckIn.objects.filter(mentorship=OuterRef("pk"), author=user).order_by("-created_at").values("created_at")[:1]
    )
    return mentorships.annotate(my_last_checkin_at=Subquery(latest))


def agreement_is_agreed(agreement: Agreement | None) -> bool:
    """Whether the pair has saved their agreement. The one made with the mentorship holds only
    the defaults, at version 1 and saved by nobody: nobody agreed to meet "every month" yet."""
    return agreement is not None and (agreement.version > 1 or agreement.updated_by_id is not None)


def first_checkin_at(mentorship: Mentorship) -> datetime:
    """When the pair's first check-in opens: ``CHECKIN_FIRST_AFTER`` into the mentorship, as
    the dashboard and the reminders count it (``selectors.dashboard.checkins_due``)."""
    return mentorship.started_at + CHECKIN_FIRST_AFTER


def checkin_open(mentorship: Mentorship, user: User, last_checkin_at: datetime | None, *, now: datetime) -> bool:
    """Whether ``user`` may check in now: a party of an active mentorship old enough for its
    first check-in, with none of theirs yet this month (of their time zone)."""
    return (
        mentorship.is_active
        and user.pk in (mentorship.mentee_id, mentorship.mentor_id)
        and now >= first_checkin_at(mentorship)
        and (last_checkin_at is None or last_checkin_at < checkin_month_start(user, now))
    )
