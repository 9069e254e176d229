"""Plain input records for scoring: one per mentee profile, one per mentor profile.

The Django side builds these from profiles; the engine never sees a model instance.
Sets may be passed as any iterable and are frozen on construction.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Id = Hashable
"""A person's id: an int or a str. Ties are broken by id (ints before strs, then natural order)."""

Window = tuple[int, int, int]
"""(weekday 0=Monday … 6=Sunday, start_minute, end_minute) in UTC; end may pass midnight (wraps into the next day)."""


class Exclusion(StrEnum):
    """Why a pair can never be matched (pair-level) or a mentor takes nobody (mentor-level)."""

    SELF = "self"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    EVALUATOR = "evaluator"
    ALREADY_PAIRED = "already_paired"
    NO_SHARED_AVAILABILITY = "no_shared_availability"
    NOT_ACCEPTING = "not_accepting"
    NO_SPOTS = "no_spots"


def id_key(value: Id) -> tuple:
    """Sort key that orders ints numerically and strs lexically, and never compares an int with a str."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value))


def _freeze_ids(value: Iterable | None) -> frozenset:
    return frozenset(value or ())


def _freeze_windows(value: Iterable | None) -> tuple[Window, ...]:
    windows = []
    for window in value or ():
        weekday, start, end = window
        windows.append((int(weekday), int(start), int(end)))
    return tuple(windows)


@dataclass(frozen=True, slots=True)
class MenteeRecord:
    id: Id
    specialty_id: Hashable | None = None
    subspecialty_interest_ids: frozenset = frozenset()
    goal_ids: frozenset = frozenset()
    interest_ids: frozenset = frozenset()
    stage_order: int | None = None
    language_ids: frozenset = frozenset()
    format_ids: frozenset = frozenset()
    weekly_windows: tuple[Window, ...] = ()
    # The user behind the profile; a mentee and a mentor with the same person_id are one person (never paired).
    person_id: Id | None = None

    def __post_init__(self) -> None:
        for name in ("subspecialty_interest_ids", "goal_ids", "interest_ids", "language_ids", "format_ids"):
            object.__setattr__(self, name, _freeze_ids(getattr(self, name)))
        object.__setattr__(self, "weekly_windows", _freeze_windows(self.weekly_windows))


@dataclass(frozen=True, slots=True)
class MentorRecord:
    id: Id
    specialty_id: Hashable | None = None
    subspecialty_id: Hashable | None = None
    expertise_goal_ids: frozenset = frozenset()
    interest_ids: frozenset = frozenset()
    stage_order: int | None = None
    language_ids: frozenset = frozenset()
    format_ids: frozenset = frozenset()
    weekly_windows: tuple[Window, ...] = ()
    capacity: int = 1
    accepting: bool = True
    active_count: int = 0
    person_id: Id | None = None
    # What the mentor is, for reasons: an academic rank ("Associate Professor") or, for a
    # near-peer, a training stage ("PGY-4"). None: reasons count stages instead.
    title: str | None = None

    def __post_init__(self) -> None:
        for name in ("expertise_goal_ids", "interest_ids", "language_ids", "format_ids"):
            object.__setattr__(self, name, _freeze_ids(getattr(self, name)))
        object.__setattr__(self, "weekly_windows", _freeze_windows(self.weekly_windows))
        if self.capacity < 0:
            raise ValueError(f"mentor {self.id!r}: capacity must be ≥ 0, got {self.capacity}")
        if self.active_count < 0:
            raise ValueError(f"mentor {self.id!r}: active_count must be ≥ 0, got {self.active_count}")

    @property
    def open_spots(self) -> int:
        """Spots left for new mentees (0 when not accepting)."""
        if not self.accepting:
            return 0
        return max(self.capacity - self.active_count, 0)


def _freeze_pairs(value: Iterable | None) -> frozenset:
    return frozenset((mentee, mentor) for mentee, mentor in (value or ()))


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Pairs (mentee_id, mentor_id) that must never be scored or matched."""

    conflicts: frozenset = frozenset()
    # The mentor evaluates the mentee (program director, APD, CCC member) and no coordinator allowed it.
    evaluators: frozenset = frozenset()
    # Already in an active mentorship of the kind being matched.
    already_paired: frozenset = frozenset()

    def __post_init__(self) -> None:
        for name in ("conflicts", "evaluators", "already_paired"):
            object.__setattr__(self, name, _freeze_pairs(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Optional id -> display name maps, so reasons can say "both speak Spanish"."""

    specialties: Mapping = field(default_factory=dict)
    subspecialties: Mapping = field(default_factory=dict)
    goals: Mapping = field(default_factory=dict)
    interests: Mapping = field(default_factory=dict)
    languages: Mapping = field(default_factory=dict)
    formats: Mapping = field(default_factory=dict)
    # Career stage order -> name ("PGY-1"), so reasons can say "you are PGY-1".
    stages: Mapping = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Clock:
    """Whose clock a reason's times are read on: minutes east of UTC and how to name it
    ("your time"). Without one, a reason says how long, not when."""

    offset_minutes: int = 0
    label: str = "your time"
