"""The outcome of a run and the statistics every run reports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .blocking import blocking_pairs_by_index
from .instance import Prepared
from .records import Id


@dataclass(frozen=True)
class MatchStats:
    matched: int
    unmatched: int
    unmatched_mentees: tuple
    total_score: float | None  # None without scores
    worst_score: float | None  # the worst-off matched mentee's score
    blocking_pairs: int
    rank_distribution: dict[int, int]  # place obtained in the mentee's own list -> mentees
    score_distribution: dict[str, float] | None  # min, p25, median, p75, max, mean of matched scores
    mentor_load: dict = field(default_factory=dict)  # mentor_id -> (assigned, capacity)


@dataclass(frozen=True)
class MatchResult:
    mode: str  # "stable" | "optimal"
    assignment: dict  # every mentee id -> mentor id or None, in id order
    ranks: dict  # matched mentee id -> place of their mentor in their own list (1 = first)
    scores: dict  # matched mentee id -> pair score (when scores were given)
    stats: MatchStats

    def pairs(self) -> list[tuple[Id, Id]]:
        return [(mentee, mentor) for mentee, mentor in self.assignment.items() if mentor is not None]

    def to_dict(self) -> dict:
        """JSON-ready: the command line prints this."""
        s = self.stats
        return {
            "mode": self.mode,
            "assignment": dict(self.assignment),
            "stats": {
                "matched": s.matched,
                "unmatched": s.unmatched,
                "unmatched_mentees": list(s.unmatched_mentees),
                "total_score": s.total_score,
                "worst_score": s.worst_score,
                "blocking_pairs": s.blocking_pairs,
                "rank_distribution": {str(k): v for k, v in s.rank_distribution.items()},
                "score_distribution": s.score_distribution,
                "mentor_load": {str(k): {"assigned": a, "capacity": c} for k, (a, c) in s.mentor_load.items()},
            },
        }


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def make_result(mode: str, prep: Prepared, mentor_of: list[int]) -> MatchResult:
    """mentor_of[i] = mentor index or -1; checks feasibility and counts blocking pairs."""
    entries = prep.assigned_entries(mentor_of)
    blocking = blocking_pairs_by_index(prep, mentor_of, entries)
    assignment = {prep.mentee_ids[i]: (prep.mentor_ids[j] if j >= 0 else None) for i, j in enumerate(mentor_of)}
    matched = np.flatnonzero(entries >= 0)
    matched_ids = [prep.mentee_ids[i] for i in matched.tolist()]
    ranks = dict(zip(matched_ids, prep.pref_place[entries[matched]].tolist(), strict=True))
    scores = dict(zip(matched_ids, prep.pref_score[entries[matched]].tolist(), strict=True)) if prep.has_scores else {}
    load = [0] * len(prep.mentor_ids)
    for j in mentor_of:
        if j >= 0:
            load[j] += 1
    rank_distribution: dict[int, int] = {}
    for place in sorted(r for r in ranks.values() if r is not None):
        rank_distribution[place] = rank_distribution.get(place, 0) + 1
    values = sorted(scores.values())
    distribution = None
    if values:
        distribution = {
            "min": values[0],
            "p25": _quantile(values, 0.25),
            "median": _quantile(values, 0.5),
            "p75": _quantile(values, 0.75),
            "max": values[-1],
            "mean": math.fsum(values) / len(values),
        }
    unmatched = tuple(prep.mentee_ids[i] for i, j in enumerate(mentor_of) if j < 0)
    stats = MatchStats(
        matched=len(mentor_of) - len(unmatched),
        unmatched=len(unmatched),
        unmatched_mentees=unmatched,
        total_score=math.fsum(values) if prep.has_scores else None,
        worst_score=values[0] if values else None,
        blocking_pairs=len(blocking),
        rank_distribution=rank_distribution,
        score_distribution=distribution,
        mentor_load={prep.mentor_ids[j]: (load[j], prep.capacity[j]) for j in range(len(prep.mentor_ids))},
    )
    return MatchResult(mode, assignment, ranks, scores, stats)
