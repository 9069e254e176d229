"""Optimal mode: the most mentees matched, then the highest total score, within capacities. Exact.

Each mentor becomes one column per usable spot and each mentee gets a private "unmatched" column that
costs more than any possible gain in score, so a minimum-cost full assignment of the mentees
(scipy's sparse LAPJV, ``min_weight_full_bipartite_matching``) is first of maximum cardinality and
then of maximum total score, and, among equally good matchings, matches lower-id mentees (while the
costs allow it: programs of a few hundred mentees). Scores are turned into integers (see
``_integer_scores``), so every cost the solver adds stays an exactly represented integer.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .instance import Instance, InstanceError, Prepared
from .result import MatchResult, make_result

_SAFE = 2**52


def _integer_scores(values: np.ndarray, mentees: int) -> np.ndarray:
    """Scores × 10**p rounded, with the most decimals p ≤ 6 that the values need and the cost budget allows.

    Exact for scores with at most p decimals (the engine's own scores have 3; p is 6 for programs of
    any realistic size); beyond that, two totals closer than 10**-p may be taken as equal.
    """
    if values.size == 0:
        return values.astype(np.int64)
    spread = float(values.max() - values.min())
    p = 6
    # The unmatched cost is (mentees + 1) × the largest edge cost; the total must stay below 2**52.
    while p > -12 and (mentees + 2) ** 2 * (spread * 10.0**p + 2) >= _SAFE:
        p -= 1
    for decimals in range(0, p):
        scaled = values * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            p = decimals
            break
    return np.round(values * 10.0**p).astype(np.int64)


def optimal_assignment(prep: Prepared) -> list[int]:
    n = len(prep.mentee_ids)
    mentor_of = [-1] * n
    rows, mentors, values = [], [], []
    for i, choices in enumerate(prep.pref):
        for j in choices:
            rows.append(i)
            mentors.append(j)
            values.append(prep.scores[i][j])
    if not rows:
        return mentor_of
    rows_a = np.array(rows, dtype=np.int64)
    mentors_a = np.array(mentors, dtype=np.int64)
    q = _integer_scores(np.array(values, dtype=np.float64), n)
    loss = q.max() - q  # ≥ 0: lower = higher score
    # Ties: among equally good matchings, prefer matching lower-id mentees. Each unit of score outweighs
    # any sum of mentee indices, so this only orders optima; it is used while the costs stay exact.
    tie = n * (n - 1) // 2 + 1
    if (n + 2) ** 2 * ((int(loss.max()) + 1) * tie + 2) < _SAFE:
        cost = (loss * tie + rows_a + 1).astype(np.float64)
    else:
        cost = (loss + 1).astype(np.float64)
    unmatched_cost = float(n + 1) * float(cost.max()) + 1.0

    # A mentor needs at most as many spot columns as mentees who find it acceptable.
    wanted = np.bincount(mentors_a, minlength=len(prep.mentor_ids))
    spots = np.minimum(np.array(prep.capacity, dtype=np.int64), wanted)
    first_spot = np.concatenate([[0], np.cumsum(spots)])
    total_spots = int(first_spot[-1])
    per_edge = spots[mentors_a]
    edge_rows = np.repeat(rows_a, per_edge)
    edge_cost = np.repeat(cost, per_edge)
    offsets = np.arange(per_edge.sum()) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    edge_cols = np.repeat(first_spot[mentors_a], per_edge) + offsets

    graph = csr_matrix(
        (
            np.concatenate([edge_cost, np.full(n, unmatched_cost)]),
            (np.concatenate([edge_rows, np.arange(n)]), np.concatenate([edge_cols, total_spots + np.arange(n)])),
        ),
        shape=(n, total_spots + n),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    spot_mentor = np.repeat(np.arange(len(prep.mentor_ids)), spots)
    for i, col in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
        if col < total_spots:
            mentor_of[i] = int(spot_mentor[col])
    return mentor_of


def solve_optimal(instance: Instance) -> MatchResult:
    if instance.scores is None:
        raise InstanceError("optimal mode needs scores")
    prep = instance.prepared
    return make_result("optimal", prep, optimal_assignment(prep))
