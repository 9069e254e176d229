"""Stable mode: resident-proposing deferred acceptance with mentor capacities, and a blocking-pair checker."""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from .instance import Instance, InstanceError, Prepared
from .records import Id
from .result import MatchResult, make_result


def deferred_acceptance(prep: Prepared) -> list[int]:
    """Mentee-proposing deferred acceptance (Gale–Shapley, hospitals/residents form).

    Gives the resident-optimal stable matching: every mentee gets the best mentor they can have in any
    stable matching. The result does not depend on the order proposals are made in.
    """
    n = len(prep.mentee_ids)
    pref, rank, capacity = prep.pref, prep.mentor_rank, prep.capacity
    held: list[list[tuple[int, int]]] = [[] for _ in prep.mentor_ids]  # max-heap on the mentor's rank: (-rank, i)
    next_choice = [0] * n
    mentor_of = [-1] * n
    free = list(range(n - 1, -1, -1))  # pop() takes the lowest id first
    while free:
        i = free.pop()
        choices = pref[i]
        while next_choice[i] < len(choices):
            j = choices[next_choice[i]]
            next_choice[i] += 1
            r = rank[j][i]
            holding = held[j]
            if len(holding) < capacity[j]:
                heapq.heappush(holding, (-r, i))
                mentor_of[i] = j
                break
            if -holding[0][0] > r:  # j prefers i to the worst mentee it holds
                _, bumped = heapq.heapreplace(holding, (-r, i))
                mentor_of[i] = j
                mentor_of[bumped] = -1
                free.append(bumped)
                break
    return mentor_of


def blocking_pairs_by_index(prep: Prepared, mentor_of: list[int]) -> list[tuple[int, int]]:
    """Pairs (i, j), mutually acceptable, where i prefers j to its lot and j has room or prefers i to one of its own."""
    load = [0] * len(prep.mentor_ids)
    worst = [-1] * len(prep.mentor_ids)  # the mentor's worst rank among its assigned mentees
    for i, j in enumerate(mentor_of):
        if j < 0:
            continue
        if not prep.mutually_acceptable(i, j):
            raise ValueError(
                f"assignment pairs {prep.mentee_ids[i]!r} with {prep.mentor_ids[j]!r}, which is not an acceptable pair"
            )
        load[j] += 1
        worst[j] = max(worst[j], prep.mentor_rank[j][i])
    for j, count in enumerate(load):
        if count > prep.capacity[j]:
            raise ValueError(
                f"assignment gives {prep.mentor_ids[j]!r} {count} mentees over a capacity of {prep.capacity[j]}"
            )
    found = []
    for i, choices in enumerate(prep.pref):
        for j in choices:
            if j == mentor_of[i]:
                break  # i prefers its own mentor to everyone after
            if load[j] < prep.capacity[j] or prep.mentor_rank[j][i] < worst[j]:
                found.append((i, j))
    return found


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
