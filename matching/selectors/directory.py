"""The mentor directory and a person's page: mentors with the spots their active mentorships
leave them."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from accounts.models import AvailabilityWindow, MentorProfile, User

from ..models import Mentorship, MentorshipRequest

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def active_mentee_count(mentor: User) -> int:
    return Mentorship.objects.filter(mentor=mentor, status=Mentorship.Status.ACTIVE).count()


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


MY_MENTOR = "mentor"
REQUESTED = "requested"


def relations_to_mentors(user: User) -> dict[int, str]:
    """{mentor user id: ``MY_MENTOR`` or ``REQUESTED``} for the mentors ``user`` has an active
    mentorship with or a pending request to, in one query; a current mentor wins."""
    if not user.is_authenticated:
        return {}
    mentors = (
        Mentorship.objects.filter(mentee=user, status=Mentorship.Status.ACTIVE)
        .order_by()
        .values_list("mentor_id", Value(MY_MENTOR))
    )
    requested = (
        MentorshipRequest.objects.filter(mentee=user, status=MentorshipRequest.Status.PENDING)
        .order_by()
        .values_list("mentor_id", Value(REQUESTED))
    )
    relations: dict[int, str] = {}
    for mentor_id, relation in mentors.union(requested, all=True):
        if relations.get(mentor_id) != MY_MENTOR:
            relations[mentor_id] = relation
    return relations
