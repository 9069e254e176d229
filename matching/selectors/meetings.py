"""Meetings: those a person may see, and one mentorship's."""

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User

from ..models import Meeting, Mentorship
from ..rules import visible_meetings


def _meetings_base() -> QuerySet[Meeting]:
    return Meeting.objects.select_related(
        "mentorship__mentee", "mentorship__mentor", "mentorship__program", "proposed_by", "cancelled_by"
    ).prefetch_related("slots")


def meetings_for(user: User) -> QuerySet[Meeting]:
    """Meetings ``user`` may see: their own mentorships' and, for a coordinator, their
    programs' (the rule ``matching.view_mentorship``)."""
    return _meetings_base().filter(visible_meetings(user))


def meetings_of(mentorship: Mentorship) -> QuerySet[Meeting]:
    """One mentorship's meetings, annotated ``is_upcoming`` (proposed, or confirmed and
    not yet started): upcoming first, soonest first; then the rest, latest first."""

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
