"""Blocking pairs of an assignment: what makes a matching unstable. The stable solver
checks its answer with it and every result counts them, whichever solver made it."""

from __future__ import annotations

import numpy as np

from .instance import Prepared


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
