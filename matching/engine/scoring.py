"""Mentee × mentor scores (0–100), vectorised over a whole cohort, with a reason per component.

Every score is an integer number of *units* (1 unit = 0.001 point) summed from per-component
contributions. All matrix products multiply 0/1 or small-integer float32 matrices whose sums stay
below 2**24, so they are exact whatever the BLAS blocking: a pair's score does not depend on the
cohort it is computed in, and the explanation of a pair adds up to exactly the cohort's score.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np

from .records import Clock, Exclusion, Exclusions, Id, MenteeRecord, MentorRecord, Vocabulary, Window, id_key
from .voice import MENTEE, VOICES, Voice, voice

COMPONENTS = ("specialty", "goals", "interests", "career", "availability", "language", "meeting_format")

UNITS_PER_POINT = 1000
FULL = 100 * UNITS_PER_POINT  # units of a pair that is perfect on every component
SLOT_MINUTES = 15
SLOTS_PER_WEEK = 7 * 24 * 60 // SLOT_MINUTES  # 672
AVAILABILITY_TARGET_SLOTS = 8  # 2 h a week in common earns the whole availability weight
INTEREST_SATURATION = 3  # three shared interests (or all of the mentee's, if fewer) earn the whole weight
SUBSPECIALTY_SHARE = 0.3  # of the specialty weight, when the mentee named subspecialty interests
_EXACT_LIMIT = 2**24  # float32 represents every integer below this


def career_fit(stages_ahead: int) -> float:
    """A mentor a few stages ahead is best; one ahead is near-peer; same stage or behind is poor."""
    if stages_ahead <= 0:
        return 0.0
    if stages_ahead == 1:
        return 0.6
    if stages_ahead <= 5:
        return 1.0
    return max(0.5, 1.0 - 0.1 * (stages_ahead - 5))


@dataclass(frozen=True)
class Weights:
    """Per-program component weights. Non-negative, not all zero; used normalised to sum 1."""

    specialty: float = 0.20
    goals: float = 0.25
    interests: float = 0.10
    career: float = 0.15
    availability: float = 0.15
    language: float = 0.08
    meeting_format: float = 0.07

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"weight {f.name!r} must be a finite number, got {value!r}")
            if value < 0:
                raise ValueError(f"weight {f.name!r} must be ≥ 0, got {value!r}")
        if sum(getattr(self, name) for name in COMPONENTS) <= 0:
            raise ValueError("at least one weight must be positive")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float]) -> Weights:
        unknown = sorted(set(mapping) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown weight(s): {', '.join(unknown)}; expected some of {', '.join(COMPONENTS)}")
        return cls(**mapping)

    def normalised(self) -> dict[str, float]:
        total = float(sum(getattr(self, name) for name in COMPONENTS))
        return {name: float(getattr(self, name)) / total for name in COMPONENTS}


class _Units:
    """The integer contribution of each component, derived once from the weights."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights.normalised()
        w = {name: FULL * value for name, value in self.weights.items()}
        self.specialty_only = round(w["specialty"])
        self.specialty_same = round(w["specialty"] * (1 - SUBSPECIALTY_SHARE))
        self.specialty_sub = round(w["specialty"] * SUBSPECIALTY_SHARE)
        self._goals = w["goals"]
        self._interests = w["interests"]
        self._career = w["career"]
        self.availability_per_slot = round(w["availability"] / AVAILABILITY_TARGET_SLOTS)
        self.availability_cap = AVAILABILITY_TARGET_SLOTS * self.availability_per_slot
        self.language = round(w["language"])
        self.meeting_format = round(w["meeting_format"])

    def per_goal(self, goal_count: int) -> int:
        return round(self._goals / goal_count) if goal_count else 0

    def per_interest(self, interest_count: int) -> int:
        saturation = min(interest_count, INTEREST_SATURATION)
        return round(self._interests / saturation) if saturation else 0

    def career(self, stages_ahead: int) -> int:
        return round(self._career * career_fit(stages_ahead))


# --------------------------------------------------------------------------------------------
# Per-pair components with reasons (the explanation path; the cohort path below must agree).


@dataclass(frozen=True, slots=True)
class ComponentScore:
    name: str
    value: float  # in [0, 1]
    weight: float  # normalised
    points: float  # contribution to the 0–100 score
    reason: str


@dataclass(frozen=True, slots=True)
class PairScore:
    mentee_id: Id
    mentor_id: Id
    score: float | None  # 0–100; None when the pair is excluded
    components: tuple[ComponentScore, ...]
    excluded: Exclusion | None = None

    @property
    def reasons(self) -> list[str]:
        return [component.reason for component in self.components]


def _names(mapping: Mapping, ids: Iterable) -> list[str] | None:
    if not mapping:
        return None
    return sorted((str(mapping.get(i, i)) for i in ids), key=str.casefold)


def _join(names: list[str], word: str = "and") -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


def _minutes_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def _slots(windows: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """(first, stop) 15-min slot ranges within the week, 0 ≤ first < stop ≤ 672; partial slots are dropped."""
    ranges = []
    for weekday, start, end in windows:
        if end < start:  # a window past midnight given as 22:00–02:00
            end += 24 * 60
        first = -(-(weekday * 24 * 60 + start) // SLOT_MINUTES)
        stop = (weekday * 24 * 60 + end) // SLOT_MINUTES
        if stop <= first:
            continue
        if stop - first >= SLOTS_PER_WEEK:
            ranges.append((0, SLOTS_PER_WEEK))
            continue
        shift = (first // SLOTS_PER_WEEK) * SLOTS_PER_WEEK  # the week wraps: Sunday night runs into Monday
        first, stop = first - shift, stop - shift
        if stop <= SLOTS_PER_WEEK:
            ranges.append((first, stop))
        else:
            ranges.append((first, SLOTS_PER_WEEK))
            ranges.append((0, stop - SLOTS_PER_WEEK))
    return ranges


def _slot_set(windows: Sequence[Window]) -> set[int]:
    return {slot for first, stop in _slots(windows) for slot in range(first, stop)}


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHOWN_SPANS = 2  # a reason names at most this many times of the week


def _clock_text(minute_of_week: int) -> tuple[str, str, str]:
    """(day, "6" or "6:30", "am"/"pm") of a minute of the week."""
    day, minute = divmod(minute_of_week % (7 * 24 * 60), 24 * 60)
    hour, minute = divmod(minute, 60)
    number = str(hour % 12 or 12) + (f":{minute:02d}" if minute else "")
    return _DAYS[day], number, "am" if hour < 12 else "pm"


def _span_text(start: int, stop: int) -> str:
    """ "Tue 6–7 pm", "Tue 11:30 am–12 pm", "Sun 11 pm–Mon 1 am" for minutes of the week."""
    day, number, half = _clock_text(start)
    end_day, end_number, end_half = _clock_text(stop)
    ends_at_midnight = stop % (24 * 60) == 0 and stop - start <= 24 * 60
    if end_day != day and not ends_at_midnight:
        return f"{day} {number} {half}–{end_day} {end_number} {end_half}"
    if half == end_half:
        return f"{day} {number}–{end_number} {end_half}"
    return f"{day} {number} {half}–{end_number} {end_half}"


def shared_times_text(slots: set[int], clock: Clock) -> str:
    """The weekly slots two people share, on ``clock``: "Tue 6–7 pm your time", the longest
    spans first (at most ``SHOWN_SPANS``, then "and N more")."""
    shift = clock.offset_minutes // SLOT_MINUTES
    local = sorted((slot + shift) % SLOTS_PER_WEEK for slot in slots)
    spans: list[list[int]] = []
    for slot in local:
        if spans and spans[-1][1] == slot:
            spans[-1][1] = slot + 1
        else:
            spans.append([slot, slot + 1])
    if len(spans) > 1 and spans[0][0] == 0 and spans[-1][1] == SLOTS_PER_WEEK:  # Sunday night into Monday
        spans[-1][1] = SLOTS_PER_WEEK + spans.pop(0)[1]
    longest = sorted(spans, key=lambda span: (-(span[1] - span[0]), span[0]))[:SHOWN_SPANS]
    shown = [_span_text(first * SLOT_MINUTES, stop * SLOT_MINUTES) for first, stop in sorted(longest)]
    more = len(spans) - len(shown)
    text = f"{_join(shown)} {clock.label}"
    offset = clock.offset_minutes % SLOT_MINUTES  # a zone off the quarter hour (e.g. +05:45)
    if offset:
        text += f" (+{offset} min)"
    return text + (f", and {more} more" if more else "")


def _pair_exclusion(
    mentee: MenteeRecord, mentor: MentorRecord, exclusions: Exclusions | None, only_open: bool
) -> Exclusion | None:
    if mentee.person_id is not None and mentee.person_id == mentor.person_id:
        return Exclusion.SELF
    if exclusions is not None:
        pair = (mentee.id, mentor.id)
        if pair in exclusions.conflicts:
            return Exclusion.CONFLICT_OF_INTEREST
        if pair in exclusions.evaluators:
            return Exclusion.EVALUATOR
        if pair in exclusions.already_paired:
            return Exclusion.ALREADY_PAIRED
    if only_open:
        if not mentor.accepting:
            return Exclusion.NOT_ACCEPTING
        if mentor.open_spots <= 0:
            return Exclusion.NO_SPOTS
    return None


def explain_pair(
    mentee: MenteeRecord,
    mentor: MentorRecord,
    *,
    weights: Weights | None = None,
    vocabulary: Vocabulary | None = None,
    exclusions: Exclusions | None = None,
    only_open: bool = False,
    require_shared_availability: bool = False,
    audience: str = MENTEE,
    clock: Clock | None = None,
) -> PairScore:
    """Score one pair with a value, points and a human reason per component. The reasons
    speak to the mentee ("3 of your 4 goals"), or with ``audience="coordinator"`` about
    them ("3 of the resident's 4 goals"). With a ``clock``, the time in common says when,
    on that clock ("Tue 6–7 pm your time")."""
    return _explain(
        mentee,
        mentor,
        _Units(weights or Weights()),
        vocabulary or Vocabulary(),
        exclusions,
        only_open,
        require_shared_availability,
        voice(audience),
        clock,
    )


def _explain(
    mentee: MenteeRecord,
    mentor: MentorRecord,
    units: _Units,
    vocab: Vocabulary,
    exclusions: Exclusions | None,
    only_open: bool,
    require_shared: bool,
    v: Voice = VOICES[MENTEE],
    clock: Clock | None = None,
) -> PairScore:
    parts: list[tuple[str, float, int, str]] = []  # name, value, units, reason

    # Specialty and subspecialty.
    same = mentee.specialty_id is not None and mentee.specialty_id == mentor.specialty_id
    wants_sub = bool(mentee.subspecialty_interest_ids)
    sub = (
        wants_sub and mentor.subspecialty_id is not None and mentor.subspecialty_id in mentee.subspecialty_interest_ids
    )
    spec_name = vocab.specialties.get(mentor.specialty_id) if same else None
    sub_name = vocab.subspecialties.get(mentor.subspecialty_id) if sub else None
    if same and sub:
        reason = (
            f"same specialty ({spec_name}) and subspecialty ({sub_name})"
            if spec_name and sub_name
            else "same specialty and subspecialty"
        )
    elif same and wants_sub:
        # The mentor works in another subspecialty, or names none (a general internist).
        other = "another subspecialty" if mentor.subspecialty_id is not None else "no subspecialty named"
        reason = f"same specialty ({spec_name}), {other}" if spec_name else f"same specialty, {other}"
    elif same:
        reason = f"same specialty ({spec_name})" if spec_name else "same specialty"
    elif sub:
        reason = (
            f"works in {sub_name}, a subspecialty {v.you_are} interested in"
            if sub_name
            else f"works in a subspecialty {v.you_are} interested in"
        )
    elif mentee.specialty_id is None or mentor.specialty_id is None:
        reason = "specialty not given"
    else:
        reason = "different specialty"
    if wants_sub:
        value = (1 - SUBSPECIALTY_SHARE) * same + SUBSPECIALTY_SHARE * sub
        spec_units = units.specialty_same * same + units.specialty_sub * sub
    else:
        value, spec_units = float(same), units.specialty_only * same
    parts.append(("specialty", value, spec_units, reason))

    # Goals the mentor has expertise in.
    goals = len(mentee.goal_ids)
    shared_goals = mentee.goal_ids & mentor.expertise_goal_ids
    if not goals:
        reason = f"{v.you} listed no goals"
    elif not shared_goals:
        reason = f"no expertise in {v.your} goals"
    else:
        names = _names(vocab.goals, shared_goals)
        # "your one goal (Research)", never "1 of your 1 goals".
        counted = f"{v.your} one goal" if goals == 1 else f"{len(shared_goals)} of {v.your} {goals} goals"
        reason = counted + (f" ({', '.join(names)})" if names else "")
    parts.append(
        ("goals", len(shared_goals) / goals if goals else 0.0, len(shared_goals) * units.per_goal(goals), reason)
    )

    # Shared interests.
    interests = len(mentee.interest_ids)
    shared = mentee.interest_ids & mentor.interest_ids
    saturation = min(interests, INTEREST_SATURATION)
    if not interests:
        reason = f"{v.you} listed no interests"
    elif not shared:
        reason = "no shared interests"
    else:
        names = _names(vocab.interests, shared)
        noun = "interest" if len(shared) == 1 else "interests"
        reason = f"{len(shared)} shared {noun}" + (f" ({', '.join(names)})" if names else "")
    per = units.per_interest(interests)
    parts.append(
        (
            "interests",
            min(len(shared), saturation) / saturation if saturation else 0.0,
            min(len(shared) * per, saturation * per),
            reason,
        )
    )

    # Career distance.
    if mentee.stage_order is None or mentor.stage_order is None:
        parts.append(("career", 0.0, 0, "career stage not given"))
    else:
        ahead = mentor.stage_order - mentee.stage_order
        mentee_stage = vocab.stages.get(mentee.stage_order)
        if mentor.title and mentee_stage:
            # The actual stages, not a count: "Associate Professor; you are PGY-1".
            reason = f"{mentor.title}; {v.you_are} {mentee_stage}" + (" (near-peer)" if ahead == 1 else "")
        elif ahead < 0:
            reason = f"earlier in training than {v.you}"
        elif ahead == 0:
            reason = f"same career stage as {v.you}"
        elif ahead == 1:
            reason = f"one stage ahead of {v.you} (near-peer)"
        else:
            reason = f"{ahead} stages ahead of {v.you}"
        parts.append(("career", career_fit(ahead), units.career(ahead), reason))

    # Weekly availability overlap.
    if not mentee.weekly_windows or not mentor.weekly_windows:
        slots, reason = 0, "no weekly availability given"
    else:
        shared_slots = _slot_set(mentee.weekly_windows) & _slot_set(mentor.weekly_windows)
        slots = len(shared_slots)
        reason = f"{_minutes_text(slots * SLOT_MINUTES)} a week in common" if slots else "no shared weekly slots"
        if slots and clock is not None:
            reason += f": {shared_times_text(shared_slots, clock)}"
    parts.append(
        (
            "availability",
            min(slots, AVAILABILITY_TARGET_SLOTS) / AVAILABILITY_TARGET_SLOTS,
            min(slots * units.availability_per_slot, units.availability_cap),
            reason,
        )
    )

    # Shared language.
    shared = mentee.language_ids & mentor.language_ids
    if not mentee.language_ids or not mentor.language_ids:
        reason = "languages not given"
    elif shared:
        names = _names(vocab.languages, shared)
        reason = f"both speak {_join(names)}" if names else "a shared language"
    else:
        reason = "no shared language"
    parts.append(("language", float(bool(shared)), units.language * bool(shared), reason))

    # Meeting format.
    shared = mentee.format_ids & mentor.format_ids
    if not mentee.format_ids or not mentor.format_ids:
        reason = "meeting formats not given"
    elif shared:
        names = _names(vocab.formats, shared)
        reason = f"both prefer {_join(names, 'or')}" if names else "a meeting format in common"
    else:
        reason = "no meeting format in common"
    parts.append(("meeting_format", float(bool(shared)), units.meeting_format * bool(shared), reason))

    components = tuple(
        ComponentScore(name, float(value), units.weights[name], part / UNITS_PER_POINT, reason)
        for name, value, part, reason in parts
    )
    excluded = _pair_exclusion(mentee, mentor, exclusions, only_open)
    if (
        excluded is None
        and require_shared
        and mentee.weekly_windows
        and mentor.weekly_windows
        and not (_slot_set(mentee.weekly_windows) & _slot_set(mentor.weekly_windows))
    ):
        excluded = Exclusion.NO_SHARED_AVAILABILITY
    total = sum(part for _, _, part, _ in parts)
    return PairScore(mentee.id, mentor.id, None if excluded else total / UNITS_PER_POINT, components, excluded)


# --------------------------------------------------------------------------------------------
# The cohort path: features as matrices, scores by block.


def _index(values: Iterable) -> dict:
    return {value: col for col, value in enumerate(sorted(set(values), key=id_key))}


def _multi_hot(rows: Sequence[Iterable], index: dict, values: Sequence[float] | np.ndarray | float = 1.0) -> np.ndarray:
    matrix = np.zeros((len(rows), max(len(index), 1)), dtype=np.float32)
    r = [i for i, ids in enumerate(rows) for _ in ids]
    c = [index[x] for ids in rows for x in ids]
    if r:
        matrix[r, c] = np.asarray(values, dtype=np.float32)[r] if not np.isscalar(values) else values
    return matrix


def _grid(people: Sequence) -> np.ndarray:
    """Boolean (people × 672) availability grid, from one difference array and a cumulative sum."""
    diff = np.zeros((SLOTS_PER_WEEK + 1, len(people)), dtype=np.int16)
    cols, starts, stops = [], [], []
    for col, person in enumerate(people):
        for first, stop in _slots(person.weekly_windows):
            cols.append(col)
            starts.append(first)
            stops.append(stop)
    if cols:
        np.add.at(diff, (starts, cols), 1)
        np.add.at(diff, (stops, cols), -1)
    return np.ascontiguousarray((np.cumsum(diff[:SLOTS_PER_WEEK], axis=0, dtype=np.int16) > 0).T)


def _set_categories(
    left_sets: Sequence[frozenset], right_sets: Sequence[frozenset], value: int
) -> tuple[np.ndarray, np.ndarray]:
    """ "Any shared" as a linear map: mentees grouped by their set, one column per distinct set."""
    distinct = sorted({s for s in left_sets if s}, key=lambda s: sorted(map(id_key, s)))
    col = {s: k for k, s in enumerate(distinct)}
    left = np.zeros((len(left_sets), max(len(distinct), 1)), dtype=np.float32)
    rows = [i for i, s in enumerate(left_sets) if s]
    left[rows, [col[left_sets[i]] for i in rows]] = 1.0
    items = _index([x for s in distinct for x in s])
    groups = _multi_hot(distinct, items)
    right_hot = _multi_hot([s & items.keys() for s in right_sets], items)
    right = (
        ((right_hot @ groups.T) > 0).astype(np.float32) * value
        if distinct
        else np.zeros((len(right_sets), 1), np.float32)
    )
    return left, right


class _Spans(NamedTuple):
    """Half-open index ranges outside which every mentee row / mentor column has no interests (resp. no
    weekly windows): the interest and availability products need only the block inside them."""

    interest_rows: tuple[int, int]
    interest_cols: tuple[int, int]
    window_rows: tuple[int, int]
    window_cols: tuple[int, int]


def _overlap(lo: int, hi: int, span: tuple[int, int]) -> tuple[int, int]:
    return max(lo, span[0]), min(hi, span[1])


def _by_emptiness(people: Sequence) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """An order of ``people`` (stable) in four runs: interests but no windows, both, windows but no interests,
    neither; so that those with interests and those with windows are each one range. Returns the order and
    the two ranges."""
    windows = np.array([bool(p.weekly_windows) for p in people], dtype=bool)
    interests = np.array([bool(p.interest_ids) for p in people], dtype=bool)
    group = np.where(interests, np.where(windows, 1, 0), np.where(windows, 2, 3))
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=4).tolist()
    return order, (0, sizes[0] + sizes[1]), (sizes[0], sizes[0] + sizes[1] + sizes[2])


class _Features:
    """Both sides as matrices whose products give each pair's units exactly."""

    def __init__(
        self,
        mentees: Sequence[MenteeRecord],
        mentors: Sequence[MentorRecord],
        units: _Units,
        require_shared: bool,
        spans: _Spans | None = None,
    ):
        n, m = len(mentees), len(mentors)
        self.mentor_count = m
        self.spans = spans or _Spans((0, n), (0, m), (0, n), (0, m))
        self.sub_units = 0  # when set: the subspecialty units of the (sub_mentee, sub_mentor) pairs, sorted by mentee
        lefts: list[np.ndarray] = []
        rights: list[np.ndarray] = []

        if units.specialty_only:
            people: tuple[MenteeRecord | MentorRecord, ...] = (*mentees, *mentors)
            specialties = _index([p.specialty_id for p in people if p.specialty_id is not None])
            left = np.zeros((n, max(len(specialties), 1)), np.float32)
            for i, p in enumerate(mentees):
                if p.specialty_id is not None:
                    left[i, specialties[p.specialty_id]] = (
                        units.specialty_same if p.subspecialty_interest_ids else units.specialty_only
                    )
            lefts.append(left)
            rights.append(
                _multi_hot([[p.specialty_id] if p.specialty_id is not None else [] for p in mentors], specialties)
            )
            # The subspecialty term is sparse (a mentor has one, a mentee names a few): added pair by pair,
            # unless so many pairs share one that a product is cheaper.
            by_sub: dict = {}
            for j, mentor in enumerate(mentors):
                if mentor.subspecialty_id is not None:
                    by_sub.setdefault(mentor.subspecialty_id, []).append(j)
            pairs = sum(len(by_sub.get(s, ())) for p in mentees for s in p.subspecialty_interest_ids)
            if pairs <= n * m // 16:
                self.sub_units = units.specialty_sub
                self.sub_mentee = np.repeat(
                    np.arange(n, dtype=np.int64),
                    [sum(len(by_sub.get(s, ())) for s in p.subspecialty_interest_ids) for p in mentees],
                )
                self.sub_mentor = np.array(
                    [j for p in mentees for s in p.subspecialty_interest_ids for j in by_sub.get(s, ())], np.int64
                )
            else:
                subs = _index(by_sub)
                lefts.append(
                    _multi_hot([p.subspecialty_interest_ids & subs.keys() for p in mentees], subs, units.specialty_sub)
                )
                rights.append(
                    _multi_hot([[p.subspecialty_id] if p.subspecialty_id is not None else [] for p in mentors], subs)
                )

        if units.per_goal(1):
            goals = _index([g for p in mentees for g in p.goal_ids])
            per_goal = [units.per_goal(len(p.goal_ids)) for p in mentees]
            lefts.append(_multi_hot([p.goal_ids for p in mentees], goals, per_goal))
            rights.append(_multi_hot([p.expertise_goal_ids & goals.keys() for p in mentors], goals))

        if units.career(3):
            stages = sorted({p.stage_order for p in mentees if p.stage_order is not None})
            stage_col = {s: k for k, s in enumerate(stages)}
            lefts.append(_multi_hot([[p.stage_order] if p.stage_order is not None else [] for p in mentees], stage_col))
            right = np.zeros((m, max(len(stages), 1)), np.float32)
            row_for: dict = {}
            for j, mentor in enumerate(mentors):
                if mentor.stage_order is not None:
                    if mentor.stage_order not in row_for:
                        row_for[mentor.stage_order] = [units.career(mentor.stage_order - s) for s in stages]
                    right[j, : len(stages)] = row_for[mentor.stage_order]
            rights.append(right)

        if units.language:
            left, right = _set_categories(
                [p.language_ids for p in mentees], [p.language_ids for p in mentors], units.language
            )
            lefts.append(left)
            rights.append(right)
        if units.meeting_format:
            left, right = _set_categories(
                [p.format_ids for p in mentees], [p.format_ids for p in mentors], units.meeting_format
            )
            lefts.append(left)
            rights.append(right)

        self.fused_left = np.ascontiguousarray(np.hstack(lefts)) if lefts else None
        self.fused_right_t = np.ascontiguousarray(np.hstack(rights).T) if rights else None

        # Interests: count × per-interest units, capped at the saturation.
        self.interests_left = None
        if units.per_interest(1):
            interests = _index([x for p in mentees for x in p.interest_ids])
            per = np.array([units.per_interest(len(p.interest_ids)) for p in mentees], np.float64)
            sizes = np.array([len(p.interest_ids) for p in mentees], np.float64)
            dtype = np.float32 if float((per * sizes).max(initial=0)) < _EXACT_LIMIT else np.float64
            self.interests_left = _multi_hot([p.interest_ids for p in mentees], interests, per).astype(dtype)
            self.interests_right_t = np.ascontiguousarray(
                _multi_hot([p.interest_ids & interests.keys() for p in mentors], interests).T.astype(dtype)
            )
            self.interests_cap = (np.minimum(sizes, INTEREST_SATURATION) * per).astype(dtype)[:, None]

        # Availability: identical slot columns merged (weighted by their count), empty ones dropped.
        self.availability_left = None
        self.require_shared = require_shared
        if units.availability_per_slot or require_shared:
            mentee_grid, mentor_grid = _grid(mentees), _grid(mentors)
            useful = mentee_grid.any(axis=0) & mentor_grid.any(axis=0)
            both = np.vstack([mentee_grid[:, useful], mentor_grid[:, useful]])
            packed = np.ascontiguousarray(np.packbits(both, axis=0).T)
            _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
            per_slot = units.availability_per_slot or 1
            self.availability_weight = units.availability_per_slot
            self.availability_left = np.ascontiguousarray(
                mentee_grid[:, useful][:, first].astype(np.float32) * (counts * per_slot).astype(np.float32)
            )
            self.availability_right_t = np.ascontiguousarray(mentor_grid[:, useful][:, first].T.astype(np.float32))
            self.availability_cap = np.float32(AVAILABILITY_TARGET_SLOTS * per_slot)
            self.mentee_has_windows = np.array([bool(p.weekly_windows) for p in mentees])
            self.mentor_has_windows = np.array([bool(p.weekly_windows) for p in mentors])

    def block(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Units of mentees lo..hi-1 against every mentor as float32 (exact integers), and, when shared
        availability is required, the mask of pairs who both gave windows but share none (already set to -1)."""
        if self.fused_left is not None:
            total = self.fused_left[lo:hi] @ self.fused_right_t
        else:
            total = np.zeros((hi - lo, self.mentor_count), np.float32)
        if self.sub_units:
            a, b = np.searchsorted(self.sub_mentee, [lo, hi])
            total[self.sub_mentee[a:b] - lo, self.sub_mentor[a:b]] += self.sub_units  # each pair once
        none = None
        spans = self.spans
        if self.interests_left is not None:
            (a, b), (c, d) = _overlap(lo, hi, spans.interest_rows), spans.interest_cols
            if a < b and c < d:  # the rest of the block has no interest on one side: nothing to add
                part = self.interests_left[a:b] @ self.interests_right_t[:, c:d]
                np.minimum(part, self.interests_cap[a:b], out=part)
                total[a - lo : b - lo, c:d] += part
        if self.availability_left is not None:
            (a, b), (c, d) = _overlap(lo, hi, spans.window_rows), spans.window_cols
            if self.require_shared:
                none = np.zeros(total.shape, dtype=bool)  # outside the span one side gave no windows
            if a < b and c < d:
                part = self.availability_left[a:b] @ self.availability_right_t[:, c:d]
                if none is not None:
                    shared_none = part == 0
                    shared_none &= self.mentee_has_windows[a:b, None]
                    shared_none &= self.mentor_has_windows[None, c:d]
                    none[a - lo : b - lo, c:d] = shared_none
                if self.availability_weight:
                    np.minimum(part, self.availability_cap, out=part)
                    total[a - lo : b - lo, c:d] += part
            if none is not None:
                total[none] = -1
        return total, none


@dataclass(frozen=True)
class CohortScores:
    """Scores of every mentee against every mentor (dense), or each mentee's best ``top_k`` mentors.

    Ids are sorted (ints, then strs); matrix rows/columns and top-k indices follow that order.
    Scores are in points, 0–100 with a resolution of 0.001; excluded pairs have no score.
    """

    mentee_ids: tuple
    mentor_ids: tuple
    units: np.ndarray | None = None  # dense: (mentees × mentors) int32, -1 = excluded
    top_index: np.ndarray | None = None  # top-k: (mentees × k) int32 mentor index, best first, -1 = none
    top_units: np.ndarray | None = None  # top-k: (mentees × k) int32, -1 = none
    excluded: Mapping = field(
        default_factory=dict
    )  # (mentee_id, mentor_id) -> Exclusion, for the pairs named in the input
    closed: Mapping = field(default_factory=dict)  # mentor_id -> Exclusion (not accepting / no spots), when only_open

    @property
    def matrix(self) -> np.ndarray:
        """Dense scores in points as float64, NaN where excluded (dense mode only)."""
        if self.units is None:
            raise ValueError("these scores were computed with top_k; there is no dense matrix")
        return np.where(self.units >= 0, self.units / UNITS_PER_POINT, np.nan)

    def score(self, mentee_id: Id, mentor_id: Id) -> float | None:
        i = self.mentee_ids.index(mentee_id)
        j = self.mentor_ids.index(mentor_id)
        if self.units is not None:
            value = int(self.units[i, j])
            return value / UNITS_PER_POINT if value >= 0 else None
        top_index, top_units = self._top_k()
        hits = np.flatnonzero(top_index[i] == j)
        return int(top_units[i, hits[0]]) / UNITS_PER_POINT if hits.size else None

    def _top_k(self) -> tuple[np.ndarray, np.ndarray]:
        if self.top_index is None or self.top_units is None:
            raise ValueError("these scores are dense; there is no top-k")
        return self.top_index, self.top_units

    def as_dict(self) -> dict[Id, dict[Id, float]]:
        """{mentee_id: {mentor_id: score}} over the scored (not excluded, kept) pairs, best first."""
        if self.units is not None:
            # Best first, ties by mentor index (a stable sort); excluded pairs (-1) sort last.
            index = np.argsort(-self.units, axis=1, kind="stable")
            units = np.take_along_axis(self.units, index, axis=1)
        else:
            index, units = self._top_k()
        kept = (units >= 0).sum(axis=1).tolist()  # the pairs with a score come first in each row
        points = (units / UNITS_PER_POINT).tolist()  # exact: the same doubles as int / 1000
        mentor_ids = self.mentor_ids
        return {
            mentee_id: dict(zip([mentor_ids[j] for j in row[:k]], values[:k], strict=True))
            for mentee_id, row, values, k in zip(self.mentee_ids, index.tolist(), points, kept, strict=True)
        }


def _sorted_unique(records: Sequence, side: str) -> list:
    ordered = sorted(records, key=lambda r: id_key(r.id))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.id == b.id:
            raise ValueError(f"duplicate {side} id {a.id!r}")
    return ordered


def _explicit_exclusions(
    mentees: Sequence[MenteeRecord], mentors: Sequence[MentorRecord], exclusions: Exclusions | None
) -> dict:
    """(mentee_index, mentor_index) -> Exclusion for self and the pairs named in ``exclusions``."""
    mentee_at = {p.id: i for i, p in enumerate(mentees)}
    mentor_at = {p.id: j for j, p in enumerate(mentors)}
    found: dict[tuple[int, int], Exclusion] = {}
    if exclusions is not None:
        # Reverse precedence, so the most serious reason wins.
        for pairs, reason in (
            (exclusions.already_paired, Exclusion.ALREADY_PAIRED),
            (exclusions.evaluators, Exclusion.EVALUATOR),
            (exclusions.conflicts, Exclusion.CONFLICT_OF_INTEREST),
        ):
            for mentee_id, mentor_id in pairs:
                if mentee_id in mentee_at and mentor_id in mentor_at:  # pairs outside the cohort are irrelevant
                    found[mentee_at[mentee_id], mentor_at[mentor_id]] = reason
    by_person: dict = {}
    for j, mentor in enumerate(mentors):
        if mentor.person_id is not None:
            by_person.setdefault(mentor.person_id, []).append(j)
    for i, mentee in enumerate(mentees):
        for j in by_person.get(mentee.person_id, ()) if mentee.person_id is not None else ():
            found[i, j] = Exclusion.SELF
    return found


def _closed_mentors(mentors: Sequence[MentorRecord]) -> dict[int, Exclusion]:
    closed = {}
    for j, p in enumerate(mentors):
        if not p.accepting:
            closed[j] = Exclusion.NOT_ACCEPTING
        elif p.open_spots <= 0:
            closed[j] = Exclusion.NO_SPOTS
    return closed


def _block_top_k(block: np.ndarray, k: int, tie_bits: int, reversed_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best ``k`` columns of a block of units (exact integers, -1 = excluded), best first,
    ties by column: (column, units) as int32, both -1 past the scored pairs.

    The order is that of the key ``units << tie_bits | reversed column``, unique within a row. Rather than
    partition every row, a threshold: the row's maxima over 4k groups of columns are 4k distinct
    entries, so the k-th largest of them is at most the row's k-th largest entry, and every entry of the
    top k is at least that (the columns past the last whole group only add candidates). Only the few entries at or above it are keyed and sorted.
    """
    rows, m = block.shape
    if k >= m:
        candidates_r, candidates_c = np.divmod(np.arange(rows * m), m)
    else:
        groups = min(4 * k, m)  # > k
        size = m // groups
        # Group g holds columns g, g + groups, g + 2 groups, …: a reduction down the middle axis is SIMD.
        maxima = block[:, : groups * size].reshape(rows, size, groups).max(axis=1)
        threshold = np.partition(maxima, groups - k, axis=1)[:, groups - k]
        flat = np.flatnonzero(block >= threshold[:, None])  # much faster than a 2-d nonzero
        candidates_r, candidates_c = np.divmod(flat, m)
    units = block[candidates_r, candidates_c].astype(np.int64)
    key = units << tie_bits
    key |= reversed_index[candidates_c]
    order = np.lexsort((-key, candidates_r))  # by row, best key first
    counts = np.bincount(candidates_r, minlength=rows)  # ≥ k in every row
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = order[first[:, None] + np.arange(min(k, m))]
    best = candidates_c[pick].astype(np.int32)
    best_units = units[pick].astype(np.int32)
    best[best_units < 0] = -1
    best_units[best_units < 0] = -1
    return best, best_units


KERNEL_MIN_PAIRS = 10_000_000  # below this, numpy's path is as quick and loading the kernel (≈1 s) is not


def _use_kernel(pairs: int) -> bool:
    """Whether top-k mode runs the compiled kernel (``kernel.py``): for large cohorts, where numba is installed,
    unless ``MENTORMATCH_ENGINE_NUMBA=0``. Imported then only, so that nothing else (``recommend``, the web app's
    small cohorts) pays for numba."""
    if pairs < KERNEL_MIN_PAIRS:
        return False
    from . import kernel

    return kernel.available()


def score_cohort(
    mentees: Sequence[MenteeRecord],
    mentors: Sequence[MentorRecord],
    *,
    weights: Weights | None = None,
    exclusions: Exclusions | None = None,
    top_k: int | None = None,
    only_open: bool = False,
    require_shared_availability: bool = False,
    block_bytes: int = 1 << 24,
) -> CohortScores:
    """Score every mentee against every mentor, streaming blocks of mentees.

    ``top_k=None`` keeps the dense (mentees × mentors) matrix; ``top_k=k`` keeps each mentee's best k
    mentors (ties by mentor id), so memory stays at O(block + mentees × k) for any cohort.
    ``only_open`` excludes mentors who are not accepting or have no open spot (recommendations).
    ``require_shared_availability`` excludes pairs who both gave windows but share none.
    """
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be ≥ 1")
    mentees = _sorted_unique(mentees, "mentee")
    mentors = _sorted_unique(mentors, "mentor")
    n, m = len(mentees), len(mentors)
    mentee_ids = tuple(p.id for p in mentees)
    mentor_ids = tuple(p.id for p in mentors)
    explicit = _explicit_exclusions(mentees, mentors, exclusions)
    closed = _closed_mentors(mentors) if only_open else {}
    excluded = {(mentee_ids[i], mentor_ids[j]): reason for (i, j), reason in explicit.items()}
    closed_ids = {mentor_ids[j]: reason for j, reason in closed.items()}
    k = min(top_k, m) if top_k is not None else None

    if n == 0 or m == 0:
        if k is None:
            return CohortScores(
                mentee_ids, mentor_ids, units=np.zeros((n, m), np.int32), excluded=excluded, closed=closed_ids
            )
        return CohortScores(
            mentee_ids,
            mentor_ids,
            top_index=np.full((n, k), -1, np.int32),
            top_units=np.full((n, k), -1, np.int32),
            excluded=excluded,
            closed=closed_ids,
        )

    pairs = np.array(sorted(explicit), dtype=np.int64).reshape(-1, 2)
    closed_cols = np.array(sorted(closed), dtype=np.int64)
    # Top-k key: units in the high bits, then the reversed mentor index, so that among equal scores the
    # lower index (id) is larger. Units never reach 2**17; excluded pairs (-1) give negative keys.
    tie_bits = max(1, (m - 1).bit_length())
    reversed_index = m - 1 - np.arange(m, dtype=np.int64)
    if k is not None and _use_kernel(n * m):
        from . import kernel

        left, right, constants = kernel.features(mentees, mentors, _Units(weights or Weights()), kernel.slot_bits)
        closed_mask = np.zeros(m, dtype=bool)
        closed_mask[closed_cols] = True
        best_index, best_units = kernel.top_k(
            left, right, constants, k, require_shared_availability, pairs, closed_mask
        )
        return CohortScores(
            mentee_ids,
            mentor_ids,
            top_index=best_index,
            top_units=best_units,
            excluded=excluded,
            closed=closed_ids,
        )
    if k is None:
        features = _Features(mentees, mentors, _Units(weights or Weights()), require_shared_availability)
        mentee_at = mentor_at = None
    else:
        # Top-k mode works on both sides reordered so that the people with no interests, and those with no
        # weekly windows, sit outside one range each: their products are skipped, not computed as zeros. The
        # scores do not depend on the order; ties still go by the original index (reversed_index), and the
        # rows and columns are put back below.
        mentee_at, interest_rows, window_rows = _by_emptiness(mentees)
        mentor_at, interest_cols, window_cols = _by_emptiness(mentors)
        features = _Features(
            [mentees[i] for i in mentee_at.tolist()],
            [mentors[j] for j in mentor_at.tolist()],
            _Units(weights or Weights()),
            require_shared_availability,
            _Spans(interest_rows, interest_cols, window_rows, window_cols),
        )
        mentee_row, mentor_col = np.argsort(mentee_at), np.argsort(mentor_at)  # original index -> new
        pairs = np.column_stack([mentee_row[pairs[:, 0]], mentor_col[pairs[:, 1]]])
        pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
        closed_cols = mentor_col[closed_cols]
        reversed_index = reversed_index[mentor_at]
    rows = max(1, min(n, block_bytes // (4 * m)))

    dense = np.empty((n, m), np.int32) if k is None else None
    top_index = np.empty((n, k), np.int32) if k is not None else None
    top_units = np.empty((n, k), np.int32) if k is not None else None

    def run(lo: int) -> list:
        hi = min(lo + rows, n)
        block, unavailable = features.block(lo, hi)
        a, b = np.searchsorted(pairs[:, 0], [lo, hi])
        if b > a:
            block[pairs[a:b, 0] - lo, pairs[a:b, 1]] = -1
        if closed_cols.size:
            block[:, closed_cols] = -1
        if dense is not None:
            dense[lo:hi] = block
            if unavailable is None:
                return []
            return [(lo + int(i), int(j)) for i, j in zip(*np.nonzero(unavailable), strict=True)]
        # Top-k mode: dense is None, so k and both top arrays were set above.
        assert k is not None and top_index is not None and top_units is not None
        assert mentee_at is not None and mentor_at is not None
        best, best_units = _block_top_k(block, k, tie_bits, reversed_index)
        found = best >= 0
        best[found] = mentor_at[best[found]]
        top_index[mentee_at[lo:hi]] = best
        top_units[mentee_at[lo:hi]] = best_units
        return []

    unavailable_pairs = [pair for lo in range(0, n, rows) for pair in run(lo)]
    for i, j in unavailable_pairs:
        excluded.setdefault((mentee_ids[i], mentor_ids[j]), Exclusion.NO_SHARED_AVAILABILITY)
    return CohortScores(
        mentee_ids,
        mentor_ids,
        units=dense,
        top_index=top_index,
        top_units=top_units,
        excluded=excluded,
        closed=closed_ids,
    )


def recommend(
    mentee: MenteeRecord,
    mentors: Sequence[MentorRecord],
    *,
    n: int = 10,
    weights: Weights | None = None,
    vocabulary: Vocabulary | None = None,
    exclusions: Exclusions | None = None,
    only_open: bool = True,
    require_shared_availability: bool = False,
    clock: Clock | None = None,
) -> list[PairScore]:
    """The mentee's best ``n`` eligible mentors, best first (ties by mentor id), each with its
    explanation (times in common on ``clock``, if given)."""
    if n < 1 or not mentors:
        return []
    weights = weights or Weights()
    cohort = score_cohort(
        [mentee],
        mentors,
        weights=weights,
        exclusions=exclusions,
        top_k=n,
        only_open=only_open,
        require_shared_availability=require_shared_availability,
    )
    by_id = {p.id: p for p in mentors}
    units = _Units(weights)
    vocab = vocabulary or Vocabulary()
    return [
        _explain(
            mentee,
            by_id[cohort.mentor_ids[j]],
            units,
            vocab,
            exclusions,
            only_open,
            require_shared_availability,
            VOICES[MENTEE],
            clock,
        )
        for j in cohort._top_k()[0][0]
        if j >= 0
    ]
