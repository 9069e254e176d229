"""Stable mode: resident-proposing deferred acceptance with mentor capacities, and the blocking pairs of any assignment."""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from .blocking import blocking_pairs_by_index
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
