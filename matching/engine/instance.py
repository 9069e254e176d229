"""A matching instance (who, capacities, rankings, scores, exclusions) and its preference lists.

Acceptability, used by both modes:

* A side that submitted a ``ranking`` (best first) accepts exactly the people on it. An empty
  ranking accepts nobody. ``None`` means "did not rank": that side accepts everyone it has a
  score with, best score first (ties by id); without any scores it accepts everyone, in id order.
* Where ``scores`` is given, only scored pairs are acceptable, whatever the rankings say.
* ``never`` entries and pair ``exclusions`` are unacceptable; a mentor with capacity 0 or not
  accepting takes nobody.
* A pair is acceptable only if each side accepts the other.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, NamedTuple, NoReturn

import numpy as np

from .records import Exclusion, Id, MentorRecord, id_key

if TYPE_CHECKING:
    from .scoring import CohortScores

_NOBODY: frozenset = frozenset()


class InstanceError(ValueError):
    """The instance is malformed; the message names the problem."""


@dataclass(frozen=True, slots=True)
class MenteePrefs:
    id: Id
    ranking: tuple | None = None  # mentor ids, best first; None = did not rank (score order)
    never: frozenset = frozenset()  # mentor ids this mentee will not be paired with

    def __post_init__(self) -> None:
        if self.ranking is not None:
            object.__setattr__(self, "ranking", tuple(self.ranking))
        object.__setattr__(self, "never", frozenset(self.never))


@dataclass(frozen=True, slots=True)
class MentorPrefs:
    id: Id
    capacity: int = 1  # spots available in this run
    ranking: tuple | None = None  # mentee ids, best first; None = did not rank (score order)
    never: frozenset = frozenset()
    accepting: bool = True

    def __post_init__(self) -> None:
        if self.ranking is not None:
            object.__setattr__(self, "ranking", tuple(self.ranking))
        object.__setattr__(self, "never", frozenset(self.never))


@dataclass(frozen=True)
class Instance:
    mentees: Sequence[MenteePrefs]
    mentors: Sequence[MentorPrefs]
    # {mentee_id: {mentor_id: score}}; higher is better. Required by optimal mode.
    scores: Mapping[Id, Mapping[Id, float]] | None = None
    # (mentee_id, mentor_id) -> Exclusion: pairs that must never be matched, with the reason why-not reports.
    exclusions: Mapping[tuple, Exclusion] = field(default_factory=dict)

    @cached_property
    def prepared(self) -> Prepared:
        return Prepared(self)


def _indices(ids: Iterable, at: Mapping, what: str, ordered: bool = False) -> list[int] | set[int]:
    """Indices of known ids: a list in the given order (``ordered``), else a set. Unknown or repeated ids raise."""
    try:
        found = [at[x] for x in ids]
    except KeyError as exc:
        raise InstanceError(f"{what}: unknown id {exc.args[0]!r}") from None
    except TypeError:  # an unhashable entry
        raise InstanceError(f"{what}: ids must be strings or integers") from None
    unique = set(found)
    if len(unique) != len(found):
        seen: set[int] = set()
        for x, k in zip(ids, found, strict=True):
            if k in seen:
                raise InstanceError(f"{what}: {x!r} listed twice")
            seen.add(k)
    return found if ordered else unique


def _sorted_by_id(people: Sequence) -> list:
    """People in id order (``id_key``): all-str or all-int ids (the usual case) sort by the id itself, alike."""
    if set(map(type, map(attrgetter("id"), people))) in ({str}, {int}):
        return sorted(people, key=attrgetter("id"))
    return sorted(people, key=lambda p: id_key(p.id))


def _check_id(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InstanceError(f"{what} must be a string or an integer, got {value!r}")


class Prepared:
    """The instance validated and turned into index-based preference lists.

    Mentees and mentors are sorted by id, so index order is tie-break order. The mutually acceptable
    pairs are flat arrays, one entry per pair, grouped by mentee in the mentee's own order:
    ``pref_mentee``, ``pref_mentor``, ``pref_mentor_rank`` (the mentee's 0-based place in the mentor's
    own order), ``pref_place`` (the mentor's 1-based place in the mentee's own list), ``pref_score``
    (when there are scores); mentee i's entries are ``pref_offsets[i]:pref_offsets[i + 1]``. The
    solvers work on these; the per-person lists and dicts that explanations use (``pref``,
    ``mentor_rank``, ``own_rank``, ``mentee_list``, ``scores``) are built on first use.
    """

    def __init__(self, instance: Instance) -> None:
        mentees = _sorted_by_id(instance.mentees)
        mentors = _sorted_by_id(instance.mentors)
        sides: tuple[tuple[Sequence[MenteePrefs | MentorPrefs], str], ...] = ((mentees, "mentee"), (mentors, "mentor"))
        for people, side in sides:
            if not set(map(type, map(attrgetter("id"), people))) <= {str, int}:  # the usual case at C speed
                for p in people:
                    _check_id(p.id, f"{side} id")
            for a, b in zip(people, people[1:], strict=False):
                if a.id == b.id:
                    raise InstanceError(f"duplicate {side} id {a.id!r}")
        self.mentee_ids = [p.id for p in mentees]
        self.mentor_ids = [p.id for p in mentors]
        self.mentee_at = {x: i for i, x in enumerate(self.mentee_ids)}
        self.mentor_at = {x: j for j, x in enumerate(self.mentor_ids)}
        n, m = len(mentees), len(mentors)

        self.accepting: list[bool] = []
        self.capacity: list[int] = []
        for p in mentors:
            if type(p.capacity) is not int and (
                isinstance(p.capacity, bool) or not isinstance(p.capacity, numbers.Integral)
            ):
                raise InstanceError(f"mentor {p.id!r}: capacity must be an integer, got {p.capacity!r}")
            if p.capacity < 0:
                raise InstanceError(f"mentor {p.id!r}: negative capacity {p.capacity}")
            self.accepting.append(bool(p.accepting))
            self.capacity.append(int(p.capacity) if p.accepting else 0)

        # Pairs are keyed i × m + j throughout (mentee-major).
        scores = instance.scores
        self.has_scores = scores is not None
        self._score_rows = _score_rows(scores, self) if scores is not None else _Rows.empty()
        score_key, by_key = _sorted_keys(self._score_rows, m)
        # The same pair twice under ids that compare equal (1 and 1.0): the last one counts.
        if scores is not None and _repeats(score_key):
            self._score_rows = _checked_score_rows(scores, self)
            score_key, by_key = _sorted_keys(self._score_rows, m)
        score_value = self._score_rows.value[by_key]

        self.exclusion: dict[tuple[int, int], Exclusion] = {}
        for pair, reason in instance.exclusions.items():
            mentee_id, mentor_id = pair
            if mentee_id not in self.mentee_at or mentor_id not in self.mentor_at:
                raise InstanceError(f"exclusions: unknown pair {pair!r}")
            self.exclusion[self.mentee_at[mentee_id], self.mentor_at[mentor_id]] = Exclusion(reason)

        self.mentee_ranked = [p.ranking is not None for p in mentees]
        self.mentor_ranked = [p.ranking is not None for p in mentors]
        self.mentee_never = [
            _indices(p.never, self.mentor_at, f"mentee {p.id!r} never-list") if p.never else _NOBODY for p in mentees
        ]
        self.mentor_never = [
            _indices(p.never, self.mentee_at, f"mentor {p.id!r} never-list") if p.never else _NOBODY for p in mentors
        ]
        excluded = [i * m + j for i, j in self.exclusion]
        mentee_refuses = _sorted_unique(
            np.array(excluded + [i * m + j for i, never in enumerate(self.mentee_never) for j in never], np.int64)
        )
        mentor_refuses = _sorted_unique(
            np.array(excluded + [i * m + j for j, never in enumerate(self.mentor_never) for i in never], np.int64)
        )

        # Each mentee's own list, in their own order: as ranked; else best score first, ties by id; else
        # everyone in id order. Ranked mentees' places are those they submitted (refused entries count);
        # the others' places count only the mentors they keep.
        ranked_i, ranked_j = _rankings(mentees, self.mentor_at, "mentee")
        unranked = ~np.array(self.mentee_ranked, dtype=bool)
        if self.has_scores:
            rows = self._score_rows
            mine = unranked[rows.i]
            order = np.lexsort((rows.j[mine], -rows.value[mine], rows.i[mine]))
            other_i, other_j = rows.i[mine][order], rows.j[mine][order]
        else:
            other_i = np.repeat(np.flatnonzero(unranked), m)
            other_j = np.tile(np.arange(m, dtype=np.int64), int(unranked.sum()))
        key = np.concatenate([ranked_i * m + ranked_j, other_i * m + other_j])
        keep = ~_member(key, mentee_refuses)
        if self.has_scores:
            score_at = _lookup(key, score_key)
            keep &= score_at >= 0
        other_keep = keep[ranked_i.size :]
        other_place = np.zeros(other_i.size, dtype=np.int64)
        other_place[other_keep] = _places(other_i[other_keep]) + 1
        own_i = np.concatenate([ranked_i, other_i])
        by_mentee = np.argsort(own_i, kind="stable")  # each mentee's entries come from one part, in order
        own_i, key, keep = own_i[by_mentee], key[by_mentee], keep[by_mentee]
        place = np.concatenate([_places(ranked_i) + 1, other_place])[by_mentee]
        self._own = (own_i, key - own_i * m, place, keep)
        if self.has_scores:
            score_at = score_at[by_mentee]

        # Each mentor's acceptable mentees, with their 0-based place in the mentor's own order.
        ranked_j, ranked_i = _rankings(mentors, self.mentee_at, "mentor", check_repeats=False)  # checked below
        unranked = ~np.array(self.mentor_ranked, dtype=bool)
        if self.has_scores:
            rows = self._score_rows
            mine = unranked[rows.j]
            order = np.lexsort((rows.i[mine], -rows.value[mine], rows.j[mine]))
            other_j, other_i = rows.j[mine][order], rows.i[mine][order]
            other_place = _places(other_j)
        else:
            other_j = np.repeat(np.flatnonzero(unranked), n)
            other_i = other_place = np.tile(np.arange(n, dtype=np.int64), int(unranked.sum()))
        # Sorted mentee-major (by mentor, then stably by mentee: a radix sort in linear time), so that the
        # look-ups below run in order.
        accept_i, accept_j = np.concatenate([ranked_i, other_i]), np.concatenate([ranked_j, other_j])
        by_key = _radix_order(accept_j, m)
        by_key = by_key[_radix_order(accept_i[by_key], n)]
        accept_key = accept_i[by_key] * m + accept_j[by_key]
        if _repeats(accept_key):
            _name_bad_ranking(mentors, self.mentee_at, "mentor")
        accept_place = np.concatenate([_places(ranked_j), other_place])[by_key]
        accepted = ~_member(accept_key, mentor_refuses)
        if self.has_scores:
            accepted &= _member(accept_key, score_key)
        accept_key, accept_place = accept_key[accepted], accept_place[accepted]

        # The mutually acceptable pairs with a mentor who has room.
        own_i, own_j, own_place, own_keep = self._own
        li, lj = own_i[own_keep], own_j[own_keep]
        found = _lookup(li * m + lj, accept_key)
        mutual = (found >= 0) & (np.array(self.capacity, dtype=np.int64)[lj] > 0)
        self.pref_mentee = li[mutual]
        self.pref_mentor = lj[mutual]
        self.pref_mentor_rank = accept_place[found[mutual]]
        self.pref_place = own_place[own_keep][mutual]
        self.pref_offsets = np.concatenate([[0], np.cumsum(np.bincount(self.pref_mentee, minlength=n))])
        self.pref_score = score_value[score_at[own_keep][mutual]] if self.has_scores else np.zeros(0)

    @cached_property
    def pref(self) -> list[list[int]]:
        """pref[i]: the mentors mentee i can be matched with, in mentee i's order."""
        return _group_lists(self.pref_mentee, self.pref_mentor, len(self.mentee_ids))

    @cached_property
    def mentor_rank(self) -> list[dict[int, int]]:
        """mentor_rank[j][i]: place (0 = best) of mentee i in mentor j's order, for the pairs in ``pref``."""
        by_mentor = np.argsort(self.pref_mentor, kind="stable")
        return _group_dicts(
            self.pref_mentor[by_mentor],
            self.pref_mentee[by_mentor],
            self.pref_mentor_rank[by_mentor],
            len(self.mentor_ids),
        )

    @cached_property
    def own_rank(self) -> list[dict[int, int]]:
        """own_rank[i][j]: 1-based place of mentor j in mentee i's own list (as submitted, or in score order)."""
        own_i, own_j, place, keep = self._own
        shown = keep | np.array(self.mentee_ranked, dtype=bool)[own_i]
        return _group_dicts(own_i[shown], own_j[shown], place[shown], len(self.mentee_ids))

    @cached_property
    def mentee_list(self) -> list[list[int]]:
        """mentee_list[i]: the mentors mentee i accepts, in their own order."""
        own_i, own_j, _, keep = self._own
        return _group_lists(own_i[keep], own_j[keep], len(self.mentee_ids))

    @cached_property
    def scores(self) -> list[dict[int, float]]:
        """scores[i]: {mentor index: score} for mentee i."""
        rows = self._score_rows
        order = np.argsort(rows.i, kind="stable")
        return _group_dicts(rows.i[order], rows.j[order], rows.value[order], len(self.mentee_ids))

    def mutually_acceptable(self, i: int, j: int) -> bool:
        return i in self.mentor_rank[j]

    def assigned_entries(self, mentor_of: Sequence[int]) -> np.ndarray:
        """For each mentee, the index of its pair in the ``pref_*`` arrays, or -1 when unmatched.

        Raises ValueError if a mentee is paired with a mentor the two of them do not both accept.
        """
        mentor_index = np.asarray(mentor_of, dtype=np.int64)
        hit = self.pref_mentor == mentor_index[self.pref_mentee]
        entry = np.full(len(self.mentee_ids), -1, dtype=np.int64)
        entry[self.pref_mentee[hit]] = np.flatnonzero(hit)
        bad = np.flatnonzero((mentor_index >= 0) & (entry < 0))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"assignment pairs {self.mentee_ids[i]!r} with {self.mentor_ids[int(mentor_index[i])]!r},"
                " which is not an acceptable pair"
            )
        return entry


class _Rows(NamedTuple):
    """Scored pairs as flat arrays (mentee index, mentor index, score), in the order they were given."""

    i: np.ndarray
    j: np.ndarray
    value: np.ndarray

    @classmethod
    def empty(cls) -> _Rows:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def _score_rows(scores: Mapping, prep: Prepared) -> _Rows:
    """The scores as flat arrays. Anything unusual (an unknown id, a value that is not a float, a pair
    given twice) goes through ``_checked_score_rows``, which converts what it can and names the first problem."""
    mentee_at, mentor_at = prep.mentee_at, prep.mentor_at
    try:
        owners = list(map(mentee_at.__getitem__, scores))
        rows = list(scores.values())
        sizes = list(map(len, rows))
        j = np.fromiter(map(mentor_at.__getitem__, chain.from_iterable(rows)), dtype=np.int64, count=sum(sizes))
        values = list(chain.from_iterable([row.values() for row in rows]))
    except (KeyError, TypeError):
        return _checked_score_rows(scores, prep)
    if not set(map(type, values)) <= {float}:
        return _checked_score_rows(scores, prep)
    value = np.array(values, dtype=np.float64)
    i = np.repeat(np.array(owners, dtype=np.int64), sizes)
    if not np.isfinite(value).all():
        return _checked_score_rows(scores, prep)
    return _Rows(i, j, value)


def _checked_score_rows(scores: Mapping, prep: Prepared) -> _Rows:
    rows: list[dict[int, float]] = [{} for _ in prep.mentee_ids]
    for mentee_id, row in scores.items():
        if mentee_id not in prep.mentee_at:
            raise InstanceError(f"scores: unknown mentee {mentee_id!r}")
        mine = rows[prep.mentee_at[mentee_id]]
        for mentor_id, value in row.items():
            j = prep.mentor_at.get(mentor_id)
            if j is None:
                raise InstanceError(f"scores: mentee {mentee_id!r} has a score for unknown mentor {mentor_id!r}")
            if not isinstance(value, float) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise InstanceError(f"scores: {mentee_id!r} × {mentor_id!r} is not a finite number: {value!r}")
            mine[j] = float(value)
        if not all(map(math.isfinite, mine.values())):
            bad = next(prep.mentor_ids[j] for j, v in mine.items() if not math.isfinite(v))
            raise InstanceError(
                f"scores: {mentee_id!r} × {bad!r} is not a finite number: {mine[prep.mentor_at[bad]]!r}"
            )
    sizes = [len(row) for row in rows]
    return _Rows(
        np.repeat(np.arange(len(rows), dtype=np.int64), sizes),
        np.array([j for row in rows for j in row], dtype=np.int64),
        np.array([value for row in rows for value in row.values()], dtype=np.float64),
    )


def _rankings(people: Sequence, at: Mapping, side: str, check_repeats: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, ranked index) for every entry of every submitted ranking, in ranking order."""
    owners = [k for k, p in enumerate(people) if p.ranking is not None]
    sizes = [len(people[k].ranking) for k in owners]
    try:
        entries = chain.from_iterable([people[k].ranking for k in owners])
        ranked = np.fromiter(map(at.__getitem__, entries), dtype=np.int64, count=sum(sizes))
    except (KeyError, TypeError):
        ranked = None
    owner = np.repeat(np.array(owners, dtype=np.int64), sizes)
    # The keys come grouped by owner, nearly sorted: the stable sort is quick on them.
    if ranked is not None and not (check_repeats and _repeats(np.sort(owner * len(at) + ranked, kind="stable"))):
        return owner, ranked
    _name_bad_ranking(people, at, side)


def _name_bad_ranking(people: Sequence, at: Mapping, side: str) -> NoReturn:
    """Raise for the first unknown, unhashable or repeated id, in the people's order."""
    for p in people:
        if p.ranking is not None:
            _indices(p.ranking, at, f"{side} {p.id!r} ranking", ordered=True)
    raise AssertionError("a ranking failed the quick check but passed the careful one")


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers without its import of numpy.ma (15 ms of a command line's start)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if values.size else values


def _radix_order(values: np.ndarray, size: int) -> np.ndarray:
    """Stable argsort of integers in [0, size): numpy sorts 16-bit integers by radix, so sort by 16-bit digits."""
    order = np.argsort((values & 0xFFFF).astype(np.uint16), kind="stable")
    shift = 16
    while size > 1 << shift:
        order = order[np.argsort(((values[order] >> shift) & 0xFFFF).astype(np.uint16), kind="stable")]
        shift += 16
    return order


def _sorted_keys(rows: _Rows, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows' pair keys, sorted, and the order that sorts them."""
    key = rows.i * m + rows.j
    order = np.argsort(key, kind="stable")
    return key[order], order


def _repeats(sorted_keys: np.ndarray) -> bool:
    return bool((sorted_keys[1:] == sorted_keys[:-1]).any())


def _lookup(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``sorted_keys`` (sorted, unique), or -1 where it is not there."""
    if sorted_keys.size == 0:
        return np.full(keys.size, -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[at] == keys, at, -1)


def _member(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    return _lookup(keys, sorted_keys) >= 0


def _places(groups: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal values (``groups`` is sorted)."""
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    return np.arange(groups.size) - np.repeat(starts, np.diff(np.append(starts, groups.size)))


def _group_lists(owner: np.ndarray, values: np.ndarray, size: int) -> list[list]:
    """[values of owner 0, values of owner 1, …]; ``owner`` is sorted."""
    flat = values.tolist()
    bounds = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=size))]).tolist()
    return [flat[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _group_dicts(owner: np.ndarray, keys: np.ndarray, values: np.ndarray, size: int) -> list[dict]:
    """[{key: value} of owner 0, …]; ``owner`` is sorted."""
    return [
        dict(zip(k, v, strict=True))
        for k, v in zip(_group_lists(owner, keys, size), _group_lists(owner, values, size), strict=True)
    ]


def build_instance(
    scores: CohortScores,
    mentors: Sequence[MentorRecord],
    *,
    mentee_rankings: Mapping[Id, Sequence[Id]] | None = None,
    mentor_rankings: Mapping[Id, Sequence[Id]] | None = None,
    never: Iterable[tuple[Id, Id]] = (),
) -> Instance:
    """An instance from ``score_cohort`` output: capacities are the mentors' open spots, scored pairs are
    acceptable, excluded pairs keep their reason. ``never`` pairs (mentee_id, mentor_id) are unacceptable
    (either side may have said never; the reason is not recorded, so why-not cannot tell who)."""
    mentee_rankings = mentee_rankings or {}
    mentor_rankings = mentor_rankings or {}
    records = {p.id: p for p in mentors}
    never_by_mentee: dict[Id, set] = {}
    for mentee_id, mentor_id in never:
        never_by_mentee.setdefault(mentee_id, set()).add(mentor_id)
    score_map = scores.as_dict()
    return Instance(
        mentees=[
            MenteePrefs(
                i,
                ranking=tuple(x for x in mentee_rankings[i] if x in records) if i in mentee_rankings else None,
                never=frozenset(never_by_mentee.get(i, ()) & records.keys()),
            )
            for i in scores.mentee_ids
        ],
        mentors=[
            MentorPrefs(
                j,
                capacity=records[j].open_spots,
                accepting=records[j].accepting,
                ranking=tuple(x for x in mentor_rankings[j] if x in score_map) if j in mentor_rankings else None,
            )
            for j in scores.mentor_ids
        ],
        scores=score_map,
        exclusions=dict(scores.excluded),
    )
