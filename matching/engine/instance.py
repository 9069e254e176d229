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

from .records import Exclusion, Id, MentorRecord, id_key


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


def _indices(ids: Iterable, at: Mapping, what: str, ordered: bool = False):
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


def _check_id(value, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InstanceError(f"{what} must be a string or an integer, got {value!r}")


class Prepared:
    """Index-based preference lists; mentees and mentors sorted by id (index order = tie-break order)."""

    def __init__(self, instance: Instance) -> None:
        mentees = sorted(instance.mentees, key=lambda p: id_key(p.id))
        mentors = sorted(instance.mentors, key=lambda p: id_key(p.id))
        for people, side in ((mentees, "mentee"), (mentors, "mentor")):
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

        self.accepting = []
        self.capacity = []
        for p in mentors:
            if isinstance(p.capacity, bool) or not isinstance(p.capacity, numbers.Integral):
                raise InstanceError(f"mentor {p.id!r}: capacity must be an integer, got {p.capacity!r}")
            if p.capacity < 0:
                raise InstanceError(f"mentor {p.id!r}: negative capacity {p.capacity}")
            self.accepting.append(bool(p.accepting))
            self.capacity.append(int(p.capacity) if p.accepting else 0)

        # Scores as one {mentor index: score} dict per mentee.
        self.has_scores = instance.scores is not None
        self.scores: list[dict[int, float]] = [{} for _ in range(n)]
        if instance.scores is not None:
            for mentee_id, row in instance.scores.items():
                if mentee_id not in self.mentee_at:
                    raise InstanceError(f"scores: unknown mentee {mentee_id!r}")
                mine = self.scores[self.mentee_at[mentee_id]]
                for mentor_id, value in row.items():
                    j = self.mentor_at.get(mentor_id)
                    if j is None:
                        raise InstanceError(
                            f"scores: mentee {mentee_id!r} has a score for unknown mentor {mentor_id!r}"
                        )
                    if not isinstance(value, float) and (
                        isinstance(value, bool) or not isinstance(value, numbers.Real)
                    ):
                        raise InstanceError(f"scores: {mentee_id!r} × {mentor_id!r} is not a finite number: {value!r}")
                    mine[j] = float(value)
                if not all(map(math.isfinite, mine.values())):
                    bad = next(self.mentor_ids[j] for j, v in mine.items() if not math.isfinite(v))
                    raise InstanceError(
                        f"scores: {mentee_id!r} × {bad!r} is not a finite number: {mine[self.mentor_at[bad]]!r}"
                    )

        self.exclusion: dict[tuple[int, int], Exclusion] = {}
        for pair, reason in instance.exclusions.items():
            mentee_id, mentor_id = pair
            if mentee_id not in self.mentee_at or mentor_id not in self.mentor_at:
                raise InstanceError(f"exclusions: unknown pair {pair!r}")
            self.exclusion[self.mentee_at[mentee_id], self.mentor_at[mentor_id]] = Exclusion(reason)
        excluded_for_mentee: dict[int, set[int]] = {}
        excluded_for_mentor: dict[int, set[int]] = {}
        for i, j in self.exclusion:
            excluded_for_mentee.setdefault(i, set()).add(j)
            excluded_for_mentor.setdefault(j, set()).add(i)

        self.mentee_ranked = [p.ranking is not None for p in mentees]
        self.mentor_ranked = [p.ranking is not None for p in mentors]
        self.mentee_never = [_indices(p.never, self.mentor_at, f"mentee {p.id!r} never-list") for p in mentees]
        self.mentor_never = [_indices(p.never, self.mentee_at, f"mentor {p.id!r} never-list") for p in mentors]

        # Score order, for the people who did not rank: best first, ties by id (index).
        by_mentor: list[list[tuple[float, int]]] = [[] for _ in range(m)]
        if self.has_scores and not all(self.mentor_ranked):
            for i, row in enumerate(self.scores):
                for j, value in row.items():
                    by_mentor[j].append((-value, i))

        # Each side's own acceptable list, in its own order. own_rank[i][j] is the 1-based place of
        # mentor j in mentee i's own list (as submitted, or in score order).
        self.own_rank: list[dict[int, int]] = []
        self.mentee_list: list[list[int]] = []
        for i, p in enumerate(mentees):
            if p.ranking is not None:
                ranked = _indices(p.ranking, self.mentor_at, f"mentee {p.id!r} ranking", ordered=True)
            elif self.has_scores:
                ranked = sorted(self.scores[i], key=lambda j, row=self.scores[i]: (-row[j], j))
            else:
                ranked = range(m)
            refused = self.mentee_never[i] | excluded_for_mentee.get(i, set())
            scored = self.scores[i]
            keep = [j for j in ranked if j not in refused and (not self.has_scores or j in scored)]
            self.own_rank.append({j: place for place, j in enumerate(ranked if p.ranking is not None else keep, 1)})
            self.mentee_list.append(keep)

        # mentor_rank_full[j][i]: place of mentee i among those mentor j accepts (0 = best).
        self.mentor_rank_full: list[dict[int, int]] = []
        for j, p in enumerate(mentors):
            if p.ranking is not None:
                ranked = _indices(p.ranking, self.mentee_at, f"mentor {p.id!r} ranking", ordered=True)
            elif self.has_scores:
                ranked = [i for _, i in sorted(by_mentor[j])]
            else:
                ranked = range(n)
            refused = self.mentor_never[j] | excluded_for_mentor.get(j, set())
            if self.has_scores:
                scores = self.scores
                self.mentor_rank_full.append(
                    {i: place for place, i in enumerate(ranked) if i not in refused and j in scores[i]}
                )
            else:
                self.mentor_rank_full.append({i: place for place, i in enumerate(ranked) if i not in refused})

        # Mutually acceptable pairs with a mentor who has room: the lists both solvers work on.
        self.pref: list[list[int]] = []
        self.mentor_rank: list[dict[int, int]] = [{} for _ in range(m)]
        capacity, full_rank, mentor_rank = self.capacity, self.mentor_rank_full, self.mentor_rank
        for i, lst in enumerate(self.mentee_list):
            mine = [j for j in lst if capacity[j] > 0 and i in full_rank[j]]
            for j in mine:
                mentor_rank[j][i] = full_rank[j][i]
            self.pref.append(mine)

    def mutually_acceptable(self, i: int, j: int) -> bool:
        return i in self.mentor_rank[j]


def build_instance(
    scores,
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
