"""How many spots a program's residents can take from each of its mentors, and if none, why.

One answer for the pages that say it: readiness before a run (who the start form offers,
who is "not accepting or with no spot left", who is kept apart) and program health's
mentor load (open spots, the load of each mentor). Both read ``program_mentor_spots`` and
``MentorSpots``, so they count the same mentors, the same spots, and give the same reason
in the same words.

The program's mentors: active people with a mentor profile and any membership of the
program (faculty, and residents who mentor as near-peers), as the start form offers them.

A mentor has no spot for the program's residents, for the first reason that applies:

- kept apart from every one of them (``matching.conflicts`` decides pair by pair): they
  evaluate the program's residents (an evaluator role; a pairing exception allows one pair,
  by hand), or a do-not-pair entry keeps them from each resident but themselves;
- over capacity (more active mentees than their capacity, after it was lowered);
- not accepting new mentees;
- a capacity of 0;
- full (as many active mentees as their capacity).

Active mentees count in every program: capacity is one number across them.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Membership, MentorProfile, Program

from ..models import ConflictOfInterest, EvaluatorRole
from .directory import mentor_directory

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

EVALUATOR = "evaluator"
CONFLICTS = "conflicts"  # a do-not-pair entry with every resident of the program
OVER_CAPACITY = "over-capacity"
NOT_ACCEPTING = "not-accepting"
CAPACITY_ZERO = "capacity-zero"
FULL = "full"

KEPT_APART = (EVALUATOR, CONFLICTS)

# Where a mentor is counted, once each (``MentorSpots.band``): kept apart (either way), a
# load reason, or ROOM.
KEPT_APART_BAND = "kept-apart"
ROOM = ""

# The words both pages use for each reason: a badge on program health, the "Why" on readiness.
REASON_LABELS = {
    EVALUATOR: "Evaluates this program's residents",
    CONFLICTS: "Do-not-pair with every resident",
    OVER_CAPACITY: "Over capacity",
    NOT_ACCEPTING: "Not accepting",
    CAPACITY_ZERO: "Capacity 0",
    FULL: "Full",
}
KEPT_APART_LABEL = "Kept apart"  # from every resident of the program


@dataclass(frozen=True)
class MentorSpots:
    """One mentor's spots for one program's residents."""

    capacity: int
    active: int  # active mentorships, in every program
    accepting: bool
    kept_apart: str = ""  # "", EVALUATOR or CONFLICTS

    @classmethod
    def of(cls, row: Any) -> "MentorSpots":
        """From a row of ``program_mentor_spots``: a profile, or a dict of its ``values()``."""

        def get(name: str) -> Any:
            return row[name] if isinstance(row, dict) else getattr(row, name)

        residents = get("program_residents")
        kept_apart = ""
        if get("is_evaluator"):
            kept_apart = EVALUATOR
        elif residents and get("residents_kept_apart") >= residents:
            kept_apart = CONFLICTS
        return cls(
            capacity=get("capacity"),
            active=get("active_mentee_count"),
            accepting=get("accepting_mentees"),
            kept_apart=kept_apart,
        )

    @property
    def load_reason(self) -> str:
        """Why their own load leaves no spot, whoever asks: OVER_CAPACITY, NOT_ACCEPTING,
        CAPACITY_ZERO, FULL, or "" with room left."""
        if self.active > self.capacity:
            return OVER_CAPACITY
        if not self.accepting:
            return NOT_ACCEPTING
        if self.capacity == 0:
            return CAPACITY_ZERO
        if self.active == self.capacity:
            return FULL
        return ""

    @property
    def free(self) -> int:
        """Spots their load leaves, whoever may take them."""
        return 0 if self.load_reason else self.capacity - self.active

    @property
    def reason(self) -> str:
        """Why the program's residents can take no spot: the first that applies, "" if they can."""
        return self.kept_apart or self.load_reason

    @property
    def band(self) -> str:
        """The one place a mentor is counted, in the precedence of ``reason``: KEPT_APART_BAND
        (whatever their load), else their load's reason, else ROOM. Readiness lists them so (kept
        apart; not accepting or no spot left; offered in the start form), and program health's
        load bands split them no other way."""
        return KEPT_APART_BAND if self.kept_apart else self.load_reason

    @property
    def open(self) -> int:
        """Spots the program's residents can take."""
        return 0 if self.kept_apart else self.free

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, "")

    @property
    def reason_note(self) -> str:
        """The reason with the numbers behind it, where they say more: "Full (2 of 2 mentees)",
        "Over capacity (3 mentees, capacity 2)"."""
        if self.reason == FULL:
            return f"{self.reason_label} ({self.active} of {self.capacity} mentee{'s' if self.capacity != 1 else ''})"
        if self.reason == OVER_CAPACITY:
            return (
                f"{self.reason_label} ({self.active} mentee{'s' if self.active != 1 else ''}, capacity {self.capacity})"
            )
        return self.reason_label


class SpotsAnnotations(TypedDict):
    active_mentee_count: int
    open_spots: int
    is_evaluator: bool
    residents_kept_apart: int
    program_residents: int


def program_mentor_spots(program: Program) -> "QuerySet[WithAnnotations[MentorProfile, SpotsAnnotations]]":
    """The program's mentors (see the module's docstring) as the directory loads them, by name,
    each with what ``MentorSpots.of`` reads: ``active_mentee_count``, ``is_evaluator`` (of this
    program), ``residents_kept_apart`` (its active residents a do-not-pair entry keeps from
    them) and ``program_residents`` (its active residents but themselves). One query."""
    residents = Membership.objects.filter(program=program, role=Membership.Role.RESIDENT, user__is_active=True)
    kept_apart = (
        ConflictOfInterest.objects.filter(mentor=OuterRef("user_id"), mentee__in=residents.values("user_id"))
        .exclude(mentee_id=F("mentor_id"))
        .order_by()
        .values("mentor")
        .annotate(n=Count("mentee_id", distinct=True))
        .values("n")
    )
    others = residents.exclude(user_id=OuterRef("user_id"))
    resident_count = others.order_by().values("program").annotate(n=Count("user_id", distinct=True)).values("n")
    return (
        mentor_directory()
        .prefetch_related(None)
        # A subquery rather than a join: someone both resident and faculty here is one row.
        .filter(user_id__in=Membership.objects.filter(program=program).values("user_id"))
        .annotate(
            is_evaluator=Exists(EvaluatorRole.objects.filter(program=program, user_id=OuterRef("user_id"))),
            residents_kept_apart=Coalesce(Subquery(kept_apart), 0),
            program_residents=Coalesce(Subquery(resident_count), 0),
        )
    )
