"""A program's pairings, for its coordinators: the list (with filters, shared by the page,
its CSV export and the API), and three changes: pair a resident directly, end a pairing,
reassign a resident to another mentor.

Starting goes through ``mentorships.mentorship_create`` (capacity under the mentor's lock,
conflicts of interest, one active mentorship per pair and per kind); ending goes through
``mentorships.mentorship_close_locked`` (future meetings cancelled with their invitations),
the very steps the pair's own "end" takes. Every change carries the coordinator's reason
into the audit trail, and only there: the people concerned are told a neutral sentence (in
their notification, their e-mail, and as the mentorship's end reason on its page and in the
API), never the reason typed, which may be a conflict of interest they must not learn of.

The list and whom a coordinator may pair are read in ``matching.selectors.pairings`` (which
also says when a pairing is *stale*).
"""

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from accounts.models import CareerStage, Membership, Program, User
from audit.services import audit_log
from core.filters import BooleanSelect, SearchFilter, StrictBooleanFilter, each_word_matches
from core.guards import require_perm
from core.locking import locked

from ..conflicts import block_message_for_coordinators, pairing_block
from ..models import Kind, Mentorship
from ..notifications import notify
from ..selectors.pairings import PairingAnnotations, mentor_choices
from .mentorships import mentorship_close_locked, mentorship_create
from .requests import requests_close_for_paired

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PERM = "matching.manage_pairings"
ALL_STATUSES = "all"
REASON_MISSING = "Give the reason; it is kept in the audit trail."
# Ending or reassigning: the reason stays with coordinators; the pair read the sentences below.
SHARED_REASON_MISSING = "Give the reason; it is kept in the audit trail and never shown to the pair."
# What the pair read instead: on the ended mentorship's page (its end reason), in their
# notification and e-mail. The same words whatever the reason.
ENDED_FOR_PAIR = (
    "Your program coordinator has ended this mentorship. They will be in touch if anything is needed from you."
)
REASSIGNED_FOR_PAIR = (
    "Your program coordinator has paired the resident with a different mentor. "
    "They will be in touch if anything is needed from you."
)
REASSIGNED_FOR_MENTEE = (
    "Your program coordinator has paired you with a different mentor. They will be in touch if anything is "
    "needed from you."
)


# --- The list's filters, shared by the page, its CSV and the API (the list: ``matching.selectors.pairings``).


def _career_stages() -> QuerySet[CareerStage]:
    return CareerStage.objects.exclude(code="JUNIOR-FACULTY")


@extend_schema_field(
    {"type": "string", "description": "The resident's career stage code, e.g. PGY-1."}
)  # not the row id
class _CareerStageFilter(filters.ModelChoiceFilter):
    def __init__(self, field_name: str, **kwargs: Any) -> None:
        super().__init__(
            field_name=field_name,
            to_field_name="code",
            queryset=_career_stages(),
            label="PGY year",
            empty_label="Any year",
            help_text="The resident's career stage code, e.g. PGY-1.",
            **kwargs,
        )


class PairingFilter(filters.FilterSet):
    """The pairings list's filters. ``program`` scopes the mentor choices; without ``status``
    the list shows active pairings."""

    status = filters.ChoiceFilter(
        choices=[*Mentorship.Status.choices, (ALL_STATUSES, "Any status")],
        method="by_status",
        empty_label=None,
        help_text="active (the default), completed, ended, or all.",
    )
    q = SearchFilter(
        method="search", label="Search", help_text="Words to find in the resident's or the mentor's name or e-mail."
    )
    kind = filters.ChoiceFilter(choices=Kind.choices, empty_label="Any kind")
    # The page has no dropdown of mentors (everyone who has mentored in the program: over a thousand
    # in a large one, most of the page's rendering): the search finds a mentor by name, and a link
    # from elsewhere (program health) names one by id, shown as a choice to remove.
    mentor = filters.ModelChoiceFilter(
        queryset=User.objects.none(),
        empty_label="Any mentor",
        help_text="The mentor's user id.",
        widget=forms.HiddenInput,
    )
    pgy = _CareerStageFilter("mentee__mentee_profile__career_stage")
    source = filters.ChoiceFilter(choices=Mentorship.Source.choices, empty_label="Any source")
    # "true" (or 1, as links write it) narrows; anything not a boolean is an error beside the filter.
    stale = StrictBooleanFilter(
        method="only_stale",
        label="Meetings",
        widget=BooleanSelect(labels=("Any", "No meeting in 60 days")),
        help_text="true: only active pairings with no meeting held or confirmed in the last 60 days "
        "(counted from their start if they have had none; a confirmed meeting ahead counts as recent).",
    )
    conflict = StrictBooleanFilter(
        method="only_breaking",
        label="Conflicts of interest",
        widget=BooleanSelect(labels=("Any", "Breaks a conflict")),
        help_text="true: only active pairings a conflict of interest recorded since forbids (a do-not-pair "
        "entry, or the mentor evaluates the resident's program without an exception).",
    )

    class Meta:
        model = Mentorship
        fields = ["q", "status", "kind", "mentor", "pgy", "source", "stale", "conflict"]

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Mentorship] | None = None,
        *,
        program: Program | None = None,
        **kwargs: Any,
    ) -> None:
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = Mentorship.Status.ACTIVE
        super().__init__(data, queryset, **kwargs)
        if program is not None:
            # Only what an option shows (the name, or the address without one).
            self.filters["mentor"].queryset = mentor_choices(program).only("pk", "first_name", "last_name", "email")

    def search(self, queryset: QuerySet[Mentorship], name: str, value: str) -> QuerySet[Mentorship]:
        people = ("first_name", "last_name", "email")
        return each_word_matches(queryset, value, [f"{who}__{f}" for who in ("mentee", "mentor") for f in people])

    def by_status(self, queryset: QuerySet[Mentorship], name: str, value: str) -> QuerySet[Mentorship]:
        return queryset if value == ALL_STATUSES else queryset.filter(status=value)

    def only_stale(
        self, queryset: "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]", name: str, value: bool | None
    ) -> "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]":
        # ``is_stale`` is annotated by pairings_of().
        return queryset.filter(is_stale=True) if value else queryset

    def only_breaking(
        self, queryset: "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]", name: str, value: bool | None
    ) -> "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]":
        # ``breaks_conflict`` is annotated by pairings_of().
        return queryset.filter(breaks_conflict=True) if value else queryset


class UnpairedFilter(filters.FilterSet):
    """Residents of the program with no active mentor of ``kind`` (in any program: a resident
    has one mentor per kind), optionally of one PGY year."""

    kind = filters.ChoiceFilter(
        choices=Kind.choices,
        method="without_mentor_of",
        required=True,
        empty_label=None,
        help_text="The kind of mentor they lack.",
    )
    pgy = _CareerStageFilter("mentee_profile__career_stage")

    class Meta:
        model = User
        fields = ["kind", "pgy"]

    def without_mentor_of(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        has_one = Mentorship.objects.filter(mentee=OuterRef("pk"), kind=value, status=Mentorship.Status.ACTIVE)
        return queryset.exclude(Exists(has_one))


# --- Changes.


def _member(program: Program, user: User, role: str) -> bool:
    return Membership.objects.filter(program=program, user=user, role=role).exists()


def _check(errors: dict[str, str], *, reason: str | None, missing: str = REASON_MISSING) -> str:
    """The reason, stripped; or every error found so far, the missing reason included."""
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = missing
    if errors:
        raise ValidationError(errors)
    return reason


def _mentor_error(program: Program, mentor: User) -> str | None:
    if not _member(program, mentor, Membership.Role.FACULTY):
        return f"Choose a mentor from the faculty of {program.name}."
    return None


def _start(*, program: Program, actor: User, mentee: User, mentor: User, kind: str, reason: str) -> Mentorship:
    """``mentorship_create`` with the coordinator as source; a refusal is put on the field it
    concerns: the kind when the resident already has a mentor of it, else the mentor. A
    conflict of interest is named as coordinators know it (the pair are told less)."""
    if block := pairing_block(mentee, mentor):
        raise ValidationError({"mentor": block_message_for_coordinators(block, mentee, mentor)})
    try:
        mentorship = mentorship_create(
            mentee=mentee,
            mentor=mentor,
            program=program,
            kind=kind,
            source=Mentorship.Source.COORDINATOR,
            actor=actor,
            check_accepting=True,
            reason=reason,
        )
    except ValidationError as exc:
        taken = Mentorship.objects.filter(mentee=mentee, kind=kind, status=Mentorship.Status.ACTIVE).exists()
        raise ValidationError({"kind" if taken else "mentor": exc.messages}) from exc
    # The resident's other requests of this kind can no longer be accepted: they close.
    requests_close_for_paired(pairs=[(mentee.pk, kind)], actor=actor)
    return mentorship


def _kind_label(mentorship: Mentorship) -> str:
    return mentorship.get_kind_display().lower()


@transaction.atomic
def pairing_create(
    *, program: Program, actor: User, mentee: User, mentor: User, kind: str, reason: str | None
) -> Mentorship:
    """Pair ``mentee``, a resident of ``program``, with ``mentor``, one of its faculty, as
    their ``kind`` mentor. Capacity, conflicts of interest and one mentor per kind still hold."""
    require_perm(actor, PERM, program)
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = "Choose a kind of mentorship."
    if not _member(program, mentee, Membership.Role.RESIDENT):
        errors["mentee"] = f"Choose a resident of {program.name}."
    if error := _mentor_error(program, mentor):
        errors["mentor"] = error
    reason = _check(errors, reason=reason)
    mentorship = _start(program=program, actor=actor, mentee=mentee, mentor=mentor, kind=kind, reason=reason)
    kind_label = _kind_label(mentorship)
    url = mentorship.get_absolute_url()
    notify(
        event="mentorship.paired",
        user=mentee,
        url=url,
        title=f"Your {kind_label} mentor is {mentor.full_name}",
        body=f"{actor.full_name}, your program's coordinator, paired you. Say hello and plan a first meeting.",
        dedup_key=f"mentorship:{mentorship.pk}:paired:mentee",
    )
    notify(
        event="mentorship.paired",
        user=mentor,
        url=url,
        title=f"You are now {mentee.full_name}'s {kind_label} mentor",
        body=f"{actor.full_name}, your program's coordinator, paired you.",
        dedup_key=f"mentorship:{mentorship.pk}:paired:mentor",
    )
    return mentorship


@transaction.atomic
def pairing_end(*, mentorship: Mentorship, actor: User, reason: str | None) -> Mentorship:
    """End a pairing as its program's coordinator: the same steps as the pair's own "end"
    (future meetings cancelled with their invitations). Both people are told that it ended,
    in a neutral sentence; ``reason`` goes to the audit trail only."""
    mentorship = locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=mentorship.pk)
    require_perm(actor, PERM, mentorship.program)
    if not mentorship.can_end():
        raise ValidationError("This pairing has already ended.")
    reason = _check({}, reason=reason, missing=SHARED_REASON_MISSING)
    mentorship_close_locked(mentorship=mentorship, actor=actor, reason=reason, told=ENDED_FOR_PAIR)
    kind_label = _kind_label(mentorship)
    for person, other in ((mentorship.mentee, mentorship.mentor), (mentorship.mentor, mentorship.mentee)):
        notify(
            event="mentorship.ended",
            user=person,
            url=mentorship.get_absolute_url(),
            title=f"{actor.full_name}, your program's coordinator, ended your {kind_label} mentorship with {other.full_name}",
            body=ENDED_FOR_PAIR,
            dedup_key=f"mentorship:{mentorship.pk}:ended:{person.pk}",
        )
    return mentorship


@transaction.atomic
def pairing_reassign(*, mentorship: Mentorship, actor: User, new_mentor: User, reason: str | None) -> Mentorship:
    """Move the resident of an active pairing to ``new_mentor`` (same kind): end it and start
    the new one, all or nothing: if the new mentor cannot take them, nothing changes. Returns
    the new mentorship. The resident and both mentors are told, in neutral sentences;
    ``reason`` goes to the audit trail only."""
    old = locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=mentorship.pk)
    program = old.program
    require_perm(actor, PERM, program)
    if not old.can_end():
        raise ValidationError("This pairing has already ended: pair the resident with a mentor instead.")
    errors: dict[str, str] = {}
    if new_mentor.pk == old.mentor_id:
        errors["mentor"] = f"{new_mentor.full_name} already mentors {old.mentee.full_name}: choose someone else."
    elif error := _mentor_error(program, new_mentor):
        errors["mentor"] = error
    reason = _check(errors, reason=reason, missing=SHARED_REASON_MISSING)
    old_mentor = old.mentor
    mentorship_close_locked(mentorship=old, actor=actor, reason=reason, told=REASSIGNED_FOR_PAIR)
    # Raising here rolls back the end as well: the resident keeps their mentor.
    new = _start(program=program, actor=actor, mentee=old.mentee, mentor=new_mentor, kind=old.kind, reason=reason)
    audit_log(
        actor=actor,
        action="mentorship.reassign",
        obj=new,
        before={"mentorship": old.pk, "mentor": old_mentor.pk},
        after={"mentorship": new.pk, "mentor": new_mentor.pk},
        reason=reason,
    )
    kind_label = _kind_label(new)
    mentee = old.mentee
    notify(
        event="mentorship.reassigned",
        user=mentee,
        url=new.get_absolute_url(),
        title=f"Your {kind_label} mentor is now {new_mentor.full_name}",
        body=REASSIGNED_FOR_MENTEE,
        dedup_key=f"mentorship:{new.pk}:reassigned:mentee",
    )
    notify(
        event="mentorship.ended",
        user=old_mentor,
        url=old.get_absolute_url(),
        title=f"{actor.full_name}, your program's coordinator, moved {mentee.full_name} to another {kind_label} mentor",
        body=REASSIGNED_FOR_PAIR,
        dedup_key=f"mentorship:{old.pk}:reassigned:mentor",
    )
    notify(
        event="mentorship.paired",
        user=new_mentor,
        url=new.get_absolute_url(),
        title=f"You are now {mentee.full_name}'s {kind_label} mentor",
        body=f"{actor.full_name}, your program's coordinator, paired you. Say hello and plan a first meeting.",
        dedup_key=f"mentorship:{new.pk}:reassigned:new_mentor",
    )
    return new
