"""Stable mode: resident-proposing deferred acceptance with mentor capacities, and a blocking-pair checker."""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np

from .instance import Instance, InstanceError, Prepared
from .records import Id
from .result import MatchResult, make_result


def deferred_acceptance(prep: Prepared) -> list[int]:
    """Mentee-proposing deferred acceptance (Gale–Shapley, hospitals/residents form).

    Gives the resident-optimal stable matching: every mentee gets the best mentor they can have in any
    stable matching. The result does not depend on the order proposals are made in.
    """
    n = len(prep.mentee_ids)
    mentor, rank = prep.pref_mentor.tolist(), prep.pref_mentor_rank.tolist()
    next_entry, end = prep.pref_offsets[:-1].tolist(), prep.pref_offsets[1:].tolist()
    capacity = prep.capacity
    # Each mentor holds its offers in a heap of -(rank << shift | mentee): the top is the worst offer held.
    shift = max(n, 1).bit_length()
    low = (1 << shift) - 1
    held: list[list[int]] = [[] for _ in prep.mentor_ids]
    mentor_of = [-1] * n
    free = list(range(n - 1, -1, -1))  # pop() takes the lowest id first
    while free:
        i = free.pop()
        k, stop = next_entry[i], end[i]
        while k < stop:
            j, r = mentor[k], rank[k]
            k += 1
            holding = held[j]
            if len(holding) < capacity[j]:
                heapq.heappush(holding, -(r << shift | i))
                mentor_of[i] = j
                break
            if -holding[0] >> shift > r:  # j prefers i to the worst mentee it holds
                bumped = -heapq.heapreplace(holding, -(r << shift | i)) & low
                mentor_of[i] = j
                mentor_of[bumped] = -1
                free.append(bumped)
                break
        next_entry[i] = k
    return mentor_of


def blocking_pairs_by_index(
    prep: Prepared, mentor_of: list[int], entries: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Pairs (i, j), mutually acceptable, where i prefers j to its lot and j has room or prefers i to one of its own.

    ``entries`` is ``prep.assigned_entries(mentor_of)`` when the caller already has it.
    """
    if entries is None:
        entries = prep.assigned_entries(mentor_of)
    matched = np.flatnonzero(entries >= 0)
    assigned_mentor = prep.pref_mentor[entries[matched]]
    capacity = np.array(prep.capacity, dtype=np.int64)
    load = np.bincount(assigned_mentor, minlength=len(prep.mentor_ids))
    over = np.flatnonzero(load > capacity)
    if over.size:
        j = int(over[0])
        raise ValueError(
            f"assignment gives {prep.mentor_ids[j]!r} {load[j]} mentees over a capacity of {prep.capacity[j]}"
        )
    worst = np.full(len(prep.mentor_ids), -1, dtype=np.int64)  # the mentor's worst rank among its mentees
    np.maximum.at(worst, assigned_mentor, prep.pref_mentor_rank[entries[matched]])
    # i considers the entries of its list before its own mentor (all of them when unmatched).
    stop = np.where(entries >= 0, entries, prep.pref_offsets[1:])
    considered = np.arange(prep.pref_mentor.size) < stop[prep.pref_mentee]
    j = prep.pref_mentor
    blocking = considered & ((load[j] < capacity[j]) | (prep.pref_mentor_rank < worst[j]))
    return list(zip(prep.pref_mentee[blocking].tolist(), j[blocking].tolist(), strict=True))


def _assignment_indices(prep: Prepared, assignment: Mapping[Id, Id | None]) -> list[int]:
    mentor_of = [-1] * len(prep.mentee_ids)
    for mentee_id, mentor_id in assignment.items():
        if mentee_id not in prep.mentee_at:
            raise InstanceError(f"assignment: unknown mentee {mentee_id!r}")
        if mentor_id is None:
            continue
        if mentor_id not in prep.mentor_at:
            raise InstanceError(f"assignment: unknown mentor {mentor_id!r}")
        mentor_of[prep.mentee_at[mentee_id]] = prep.mentor_at[mentor_id]
    return mentor_of


def find_blocking_pairs(instance: Instance, assignment: Mapping[Id, Id | None]) -> list[tuple[Id, Id]]:
    """Blocking pairs (mentee_id, mentor_id) of any feasible assignment; mentees left out are unmatched.

    Raises ValueError if the assignment pairs an unacceptable pair or exceeds a capacity.
    """
    prep = instance.prepared
    return [
        (prep.mentee_ids[i], prep.mentor_ids[j])
        for i, j in blocking_pairs_by_index(prep, _assignment_indices(prep, assignment))
    ]


def count_blocking_pairs(instance: Instance, assignment: Mapping[Id, Id | None]) -> int:
    return len(find_blocking_pairs(instance, assignment))


def solve_stable(instance: Instance) -> MatchResult:
    prep = instance.prepared
    return make_result("stable", prep, deferred_acceptance(prep))
