"""The mentor directory and a person's page: mentors with the spots their active mentorships
leave them."""

import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.core.cache import cache
from django.db.models import Count, F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from redis.exceptions import RedisError

from accounts.models import AvailabilityWindow, MentorProfile, User

from ..models import Mentorship, MentorshipRequest

if TYPE_CHECKING:
    from django.forms import Form
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
    loads them (counts annotated), each with the two lists a card shows joined: ``helps_with``
    (its goals' names) and ``speaks`` (its languages'), in their vocabularies' order, read in one
    query; profiles that left the directory since their ids were read are missing."""
    cards = mentor_directory().prefetch_related(None).in_bulk(list(profile_ids))
    with_card_lists(cards.values())
    return cards


def with_card_lists(profiles: Iterable[MentorProfile]) -> None:
    """Set each profile's ``helps_with`` and ``speaks``: its goals' and its languages' names,
    joined, in their vocabularies' order; one query for all of them (none without profiles)."""
    profiles = list(profiles)
    names: dict[tuple[int, int], list[str]] = {}
    if profiles:
        for profile_id, kind, _order, name in _card_names([p.pk for p in profiles]):
            names.setdefault((profile_id, kind), []).append(name)
    for profile in profiles:
        # Attributes for the card template, set on the instances it is given.
        profile.helps_with = ", ".join(names.get((profile.pk, 0), ()))  # type: ignore[attr-defined]
        profile.speaks = ", ".join(names.get((profile.pk, 1), ()))  # type: ignore[attr-defined]


def _card_names(profile_ids: list[int]) -> QuerySet:
    """(profile id, 0 for a goal or 1 for a language, order, name) of these profiles, sorted as the
    vocabularies sort (goals by order then name, languages by name): one UNION ALL."""
    goals = (
        MentorProfile.expertise.through.objects.filter(mentorprofile_id__in=profile_ids)
        .annotate(kind=Value(0), sort=F("goal__order"), label=F("goal__name"))
        .values_list("mentorprofile_id", "kind", "sort", "label")  # type: ignore[misc]  # annotations the plugin misses
    )
    languages = (
        MentorProfile.languages.through.objects.filter(mentorprofile_id__in=profile_ids)
        .annotate(kind=Value(1), sort=Value(0), label=F("language__name"))
        .values_list("mentorprofile_id", "kind", "sort", "label")  # type: ignore[misc]  # annotations the plugin misses
    )
    return goals.union(languages, all=True).order_by("mentorprofile_id", "kind", "sort", "label")


FILTER_CHOICES_KEY = "matching:directory:filter-choices"
# The vocabularies change in the admin (``directory_mentors.vocabulary_changed`` forgets the lists
# then) or by a migration, which no signal reports: then within this time.
FILTER_CHOICES_TIMEOUT = 5 * 60
_CHOICE_FIELDS = ("specialty", "subspecialty", "expertise", "language", "meeting_format")


def use_kept_filter_choices(form: "Form") -> str | None:
    """Give the directory filter form's widgets their choice lists (the vocabularies: five queries)
    from the cache, as plain (value, label) pairs, groups kept. For rendering only: the fields
    still validate against their querysets. Returns the lists' version, a token that changes
    whenever they are read again from the database (None without a cache)."""
    try:
        kept = cache.get(FILTER_CHOICES_KEY)
    except (RedisError, OSError):
        kept = None
    if kept is None:
        kept = {
            "version": secrets.token_hex(8),
            "choices": {name: _plain_choices(form.fields[name].widget.choices) for name in _CHOICE_FIELDS},
        }
        try:
            cache.set(FILTER_CHOICES_KEY, kept, FILTER_CHOICES_TIMEOUT)
        except (RedisError, OSError):
            kept["version"] = None
    for name in _CHOICE_FIELDS:
        form.fields[name].widget.choices = kept["choices"][name]
    return kept["version"]


def forget_filter_choices() -> None:
    try:
        cache.delete(FILTER_CHOICES_KEY)
    except (RedisError, OSError):
        pass


def _plain_choices(choices: Iterable) -> list:
    """Choices with each value as the string the widget writes (a model choice's slug)."""
    return [
        (str(value), _plain_choices(label) if isinstance(label, list | tuple) else str(label))
        for value, label in choices
    ]


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
