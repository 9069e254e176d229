"""Optimal mode: the most mentees matched, then the highest total score, within capacities. Exact.

A maximum flow of minimum cost (OR-Tools' ``SimpleMinCostFlow``) on source → mentee (capacity 1) →
mentor (capacity 1 per mutually acceptable pair) → sink (capacity = the mentor's spots): the flow is
a largest matching, and among the largest, its cost, the sum of (best score − score), is lowest, so
its total score is highest. Scores are turned into integers first (see ``_integer_scores``), so
every cost is an exact int64. Among equally good matchings, lower-id mentees are matched: each pair
also costs its mentee's index + 1, scaled below one unit of score, while the costs stay within what
the solver can scale (with the engine's scores, about 30,000 mentees; see ``_tie_break``).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from .instance import Instance, InstanceError, Prepared
from .result import MatchResult, make_result

# OR-Tools multiplies every cost by (nodes + 1) and refuses costs above int64 max / (2 × that). A
# further factor of 2 leaves room for its node potentials.
_COST_LIMIT = np.iinfo(np.int64).max // 4


def _integer_scores(values: np.ndarray, nodes: int) -> np.ndarray:
    """Scores × 10**p rounded, with the most decimals p ≤ 6 that the values need and the cost budget allows.

    Exact for scores with at most p decimals (the engine's own scores have 3; p stays 6 for scores of
    any realistic size); beyond that, two totals closer than 10**-p may be taken as equal.
    """
    if values.size == 0:
        return values.astype(np.int64)
    spread = float(values.max() - values.min())
    budget = _COST_LIMIT // (nodes + 1)
    p = 6
    while p > -12 and spread * 10.0**p + 2 >= budget:
        p -= 1
    for decimals in range(0, p):
        scaled = values * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            p = decimals
            break
    return np.round(values * 10.0**p).astype(np.int64)


def _tie_break(loss: np.ndarray, mentee: np.ndarray, mentees: int, nodes: int) -> np.ndarray:
    """Costs that also prefer matching lower-id mentees among equally good matchings, when they fit.

    One unit of loss outweighs the sum of all mentees' (index + 1), so the tie term only orders optima.
    """
    scale = mentees * (mentees + 1) // 2 + 1
    if (int(loss.max(initial=0)) + 1) * scale >= _COST_LIMIT // (nodes + 1):
        return loss
    return loss * scale + mentee + 1


def optimal_assignment(prep: Prepared) -> list[int]:
    n, m = len(prep.mentee_ids), len(prep.mentor_ids)
    mentor_of = [-1] * n
    pairs = prep.pref_mentee.size
    if pairs == 0:
        return mentor_of
    nodes = n + m + 2
    source, sink = n + m, n + m + 1
    q = _integer_scores(prep.pref_score, nodes)
    loss = q.max() - q  # ≥ 0: lower = higher score
    for cost in (_tie_break(loss, prep.pref_mentee, n, nodes), loss):
        flow = min_cost_flow.SimpleMinCostFlow()
        # Pair arcs first, so that arc k is pair k.
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([prep.pref_mentee, np.full(n, source), n + np.arange(m)]),
            np.concatenate([n + prep.pref_mentor, np.arange(n), np.full(m, sink)]),
            np.concatenate([np.ones(pairs + n, dtype=np.int64), np.array(prep.capacity, dtype=np.int64)]),
            np.concatenate([cost, np.zeros(n + m, dtype=np.int64)]),
        )
        flow.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
        status = flow.solve_max_flow_with_min_cost()
        if status == flow.OPTIMAL:
            break
        if status != flow.BAD_COST_RANGE or cost is loss:
            raise RuntimeError(f"min-cost flow failed: {status!r}")
        # The tie-break made the costs too large for this graph after all: solve without it.
    used = np.flatnonzero(flow.flows(np.arange(pairs, dtype=np.int32)) > 0)
    for i, j in zip(prep.pref_mentee[used].tolist(), prep.pref_mentor[used].tolist(), strict=True):
        mentor_of[i] = j
    return mentor_of


def solve_optimal(instance: Instance) -> MatchResult:
    if instance.scores is None:
        raise InstanceError("optimal mode needs scores")
    prep = instance.prepared
    return make_result("optimal", prep, optimal_assignment(prep))
