"""The cohort's best-k scores by a compiled kernel (numba), when numba is installed.

``score_cohort(top_k=k)`` at the national scale (40,000 × 16,000) spends most of its time in float32
products: 381 multiply-adds per pair (specialty, goals, career, language, format, interests, 224 slot
columns), at one core's peak already. Here each pair is scored from bit sets instead, each mentee's best
k kept as it goes (a min-heap of keys: units, then the reversed mentor index, as ``_block_top_k`` orders
them), blocks of mentees spread over the cores (numba ``prange``), the machine code cached on disk.

``fused`` (issue 16's second pass), for the usual vocabularies (goals, interests, languages and formats of at
most 64 items, subspecialties of at most 128): per mentee and tile of 4,096 mentors, one straight loop sums
specialty, subspecialty, career, goals, interests, language and format from one word per set (popcounts of
ANDed words, selects, a row of career units per mentee stage with closed mentors far below zero), which the
compiler vectorises; one loop per non-empty word of the mentee's weekly slots counts the slots in common; one
adds their capped units. About 1.4 s of CPU at 40,000 × 16,000 where ``kernel`` below took 3.2 s.

``kernel``, for larger vocabularies: a pass over a tile of 2,048 mentors per word of each set.

The units are the very integers the numpy path sums (same rounding, same caps, same ties by mentor
index): tests/engine/test_kernel.py checks both kernels against the numpy path (random instances full of
ties included), and the national-scale benchmark checks the top 50 byte for byte against the numpy path's
and against ``score_cohort`` before issue 16.

numba is optional (``requirements-engine.txt``): the web app and the demo do not install it, and
``available()`` is False there, so ``score_cohort`` keeps the numpy path. Set
``MENTORMATCH_ENGINE_NUMBA=0`` to keep the numpy path even where numba is installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .records import MenteeRecord, MentorRecord

try:  # pragma: no cover - which branch runs depends on the environment
    if os.environ.get("MENTORMATCH_ENGINE_NUMBA", "1") == "0":
        raise ImportError("disabled by MENTORMATCH_ENGINE_NUMBA=0")
    import numba
except ImportError:
    numba = None


def available() -> bool:
    """Whether the compiled kernel can run here (numba imported)."""
    return numba is not None


def _bits(rows: Sequence[Iterable], index: dict) -> np.ndarray:
    """(rows × words) uint64: each row's items (codes from ``index``; unknown items ignored) as bits."""
    words = max(1, -(-len(index) // 64))
    hot = np.zeros((len(rows), words * 64), dtype=bool)
    r = [i for i, items in enumerate(rows) for x in items if x in index]
    c = [index[x] for items in rows for x in items if x in index]
    if r:
        hot[r, c] = True
    return np.ascontiguousarray(np.packbits(hot, axis=1, bitorder="little").view(np.uint64))


def _word_major(bits: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(bits.T)


def slot_bits(people: Sequence) -> np.ndarray:
    """(people × 11) uint64: each person's weekly 15-minute slots (scoring's ``_slots``) as bits, slot s at
    bit s; one Python integer per person, no (people × 672) grid."""
    from .scoring import SLOTS_PER_WEEK, _slots

    size = -(-SLOTS_PER_WEEK // 64) * 8
    masks = bytearray()
    for person in people:
        mask = 0
        for first, stop in _slots(person.weekly_windows) if person.weekly_windows else ():
            mask |= ((1 << (stop - first)) - 1) << first
        masks += mask.to_bytes(size, "little")
    return np.frombuffer(bytes(masks), dtype="<u8").reshape(len(people), size // 8).astype(np.uint64)


def _codes(values: Sequence, index: dict) -> np.ndarray:
    return np.array([index.get(v, -1) if v is not None else -1 for v in values], dtype=np.int32)


def features(
    mentees: Sequence[MenteeRecord], mentors: Sequence[MentorRecord], units: Any, packed_slots: Any
) -> tuple[tuple, tuple, dict]:
    """Both sides as arrays for the kernel: (mentee arrays, mentor arrays, constants). ``units`` is
    scoring's ``_Units``; ``packed_slots(people)`` gives (people × 11) uint64 weekly slot bits."""
    specialties: dict = {}
    for p in (*mentees, *mentors):
        if p.specialty_id is not None:
            specialties.setdefault(p.specialty_id, len(specialties))
    subs: dict = {}
    for p in mentors:
        if p.subspecialty_id is not None:
            subs.setdefault(p.subspecialty_id, len(subs))
    goals: dict = {}
    interests: dict = {}
    languages: dict = {}
    formats: dict = {}
    for p in mentees:
        for x in p.goal_ids:
            goals.setdefault(x, len(goals))
        for x in p.interest_ids:
            interests.setdefault(x, len(interests))
        for x in p.language_ids:
            languages.setdefault(x, len(languages))
        for x in p.format_ids:
            formats.setdefault(x, len(formats))

    mentee_stages = sorted({p.stage_order for p in mentees if p.stage_order is not None})
    mentor_stages = sorted({p.stage_order for p in mentors if p.stage_order is not None})
    career = np.zeros((max(len(mentee_stages), 1), max(len(mentor_stages), 1)), dtype=np.int64)
    for a, s in enumerate(mentee_stages):
        for b, t in enumerate(mentor_stages):
            career[a, b] = units.career(t - s)
    mentee_stage_at = {s: k for k, s in enumerate(mentee_stages)}
    mentor_stage_at = {s: k for k, s in enumerate(mentor_stages)}

    wants_sub = np.array([bool(p.subspecialty_interest_ids) for p in mentees], dtype=bool)
    interest_count = np.array([len(p.interest_ids) for p in mentees], dtype=np.int64)
    per_interest = np.array([units.per_interest(int(c)) for c in interest_count.tolist()], dtype=np.int64)
    left = (
        _codes([p.specialty_id for p in mentees], specialties),
        np.where(wants_sub, units.specialty_same, units.specialty_only).astype(np.int64),
        _bits([p.subspecialty_interest_ids for p in mentees], subs),
        _bits([p.goal_ids for p in mentees], goals),
        np.array([units.per_goal(len(p.goal_ids)) for p in mentees], dtype=np.int64),
        _bits([p.interest_ids for p in mentees], interests),
        per_interest,
        np.minimum(interest_count, 3) * per_interest,  # INTEREST_SATURATION
        np.array([mentee_stage_at.get(p.stage_order, -1) for p in mentees], dtype=np.int32),
        _bits([p.language_ids for p in mentees], languages),
        _bits([p.format_ids for p in mentees], formats),
        packed_slots(mentees),
        np.array([bool(p.weekly_windows) for p in mentees], dtype=bool),
    )
    right = (
        _codes([p.specialty_id for p in mentors], specialties),
        _codes([p.subspecialty_id for p in mentors], subs),
        _word_major(_bits([p.expertise_goal_ids for p in mentors], goals)),
        _word_major(_bits([p.interest_ids for p in mentors], interests)),
        np.array([mentor_stage_at.get(p.stage_order, -1) for p in mentors], dtype=np.int32),
        _word_major(_bits([p.language_ids for p in mentors], languages)),
        _word_major(_bits([p.format_ids for p in mentors], formats)),
        _word_major(packed_slots(mentors)),
        np.array([bool(p.weekly_windows) for p in mentors], dtype=bool),
    )
    constants = {
        "specialty_sub": units.specialty_sub,
        "career": career,
        "language": units.language,
        "meeting_format": units.meeting_format,
        "per_slot": units.availability_per_slot,
        "slot_cap": units.availability_cap,
    }
    return left, right, constants


def top_k(
    left: tuple,
    right: tuple,
    constants: dict,
    k: int,
    require_shared: bool,
    excluded_pairs: np.ndarray,
    closed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each mentee's best ``k`` mentors, best first, ties by mentor index: (index, units) as int32
    (mentees × k), -1 past the scored pairs. ``excluded_pairs``: (pairs × 2) int64 (mentee, mentor)
    sorted by mentee, scored -1; ``closed``: bool per mentor, scored -1."""
    n, m = len(left[0]), len(right[0])
    bounds = np.searchsorted(excluded_pairs[:, 0], np.arange(n + 1)).astype(np.int64)
    top_index = np.empty((n, k), np.int32)
    top_units = np.empty((n, k), np.int32)
    if _fits_one_pass(left, right):
        _one_pass(left, right, constants, require_shared, bounds, excluded_pairs, closed, m, top_index, top_units)
        return top_index, top_units
    _kernel(
        *left,
        *right,
        int(constants["specialty_sub"]),
        constants["career"],
        int(constants["language"]),
        int(constants["meeting_format"]),
        int(constants["per_slot"]),
        int(constants["slot_cap"]),
        bool(require_shared),
        bounds,
        np.ascontiguousarray(excluded_pairs[:, 1]),
        closed,
        max(1, (m - 1).bit_length()),
        top_index,
        top_units,
    )
    return top_index, top_units


def _fits_one_pass(left: tuple, right: tuple) -> bool:
    """Whether ``_one_pass`` applies: goals, interests, languages and formats of at most 64 items each (one word),
    subspecialties of at most 128 (two words). Larger vocabularies take ``kernel``, a pass per word."""
    return all(left[x].shape[1] == 1 for x in (3, 5, 9, 10)) and left[2].shape[1] <= 2


def _one_pass(
    left: tuple,
    right: tuple,
    constants: dict,
    require_shared: bool,
    bounds: np.ndarray,
    excluded_pairs: np.ndarray,
    closed: np.ndarray,
    m: int,
    top_index: np.ndarray,
    top_units: np.ndarray,
) -> None:
    """``top_k`` by ``fused``: every component but availability summed in one straight loop over the mentors."""
    (e_spec, e_spec_units, e_sub, e_goals, e_per_goal, e_interests, e_per_interest, e_interest_cap) = left[:8]
    (e_stage, e_languages, e_formats, e_slots, e_has_windows) = left[8:]
    (r_spec, r_sub, r_goals, r_interests, r_stage, r_languages, r_formats, r_slots, r_has_windows) = right
    career = constants["career"]
    stages_e, stages_r = career.shape
    # base[s, j]: mentor j's career units for a mentee at stage s (the last row: stage not given, 0; a mentor
    # whose stage is not given, 0), far below zero for a closed mentor: one contiguous row per mentee's stage.
    career_ext = np.zeros((stages_e + 1, stages_r + 1), np.int64)
    career_ext[:stages_e, :stages_r] = career
    base = career_ext[:, np.where(r_stage >= 0, r_stage, stages_r)] + np.where(closed, _DEAD, 0)
    # The mentor's one subspecialty as a bit in two words, like the mentee's interests in them.
    sub_words = np.zeros((2, m), np.uint64)
    has_sub = r_sub >= 0
    codes = r_sub[has_sub].astype(np.int64)
    sub_words[codes >> 6, np.flatnonzero(has_sub)] = np.left_shift(np.uint64(1), (codes & 63).astype(np.uint64))
    e_sub2 = np.zeros((len(e_spec), 2), np.uint64)
    e_sub2[:, : e_sub.shape[1]] = e_sub
    fused(
        np.where(e_spec >= 0, e_spec, -2).astype(np.int64),
        e_spec_units.astype(np.int64),
        np.ascontiguousarray(e_sub2[:, 0]),
        np.ascontiguousarray(e_sub2[:, 1]),
        np.ascontiguousarray(e_goals[:, 0]),
        e_per_goal.astype(np.int64),
        np.ascontiguousarray(e_interests[:, 0]),
        e_per_interest.astype(np.int64),
        e_interest_cap.astype(np.int64),
        np.where(e_stage >= 0, e_stage, stages_e).astype(np.int64),
        np.ascontiguousarray(e_languages[:, 0]),
        np.ascontiguousarray(e_formats[:, 0]),
        np.ascontiguousarray(e_slots),
        e_has_windows,
        r_spec.astype(np.int64),
        sub_words[0],
        sub_words[1],
        np.ascontiguousarray(r_goals[0]),
        np.ascontiguousarray(r_interests[0]),
        np.ascontiguousarray(r_languages[0]),
        np.ascontiguousarray(r_formats[0]),
        np.ascontiguousarray(r_slots),
        r_has_windows,
        np.ascontiguousarray(base),
        int(constants["specialty_sub"]),
        int(constants["language"]),
        int(constants["meeting_format"]),
        int(constants["per_slot"]),
        int(constants["slot_cap"]),
        bool(require_shared),
        bounds,
        np.ascontiguousarray(excluded_pairs[:, 1]),
        max(1, (m - 1).bit_length()),
        top_index,
        top_units,
    )


_DEAD = -(1 << 30)  # far below any sum of components (< 2**17): a closed or excluded mentor stays negative


if numba is not None:  # pragma: no cover - compiled code; run by the tests where numba is installed
    njit, prange = numba.njit, numba.prange
    from numba.core import types as _types
    from numba.core.extending import intrinsic

    @intrinsic
    def ctpop(typingctx, x):
        # LLVM's population count: one instruction (vpopcntq over a vector of words where the CPU has it).
        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return _types.uint64(_types.uint64), codegen

    @njit(inline="always")
    def shared(mine, theirs):
        return np.int64(ctpop(mine & theirs))

    @njit(cache=True, nogil=True)
    def base_pass(
        row, base, r_spec, spec, spec_units, r_sub0, r_sub1, sub0, sub1, specialty_sub,
        r_goals, goals, per_goal, r_interests, interests, per_interest, interest_cap,
        r_languages, languages, language, r_formats, formats, meeting_format,
    ):  # fmt: skip
        # Every component but availability, for one mentee and a tile of mentors: one straight loop of selects,
        # popcounts and adds over contiguous arrays, which the compiler vectorises.
        for t in range(row.shape[0]):
            units = base[t]
            units += spec_units if r_spec[t] == spec else 0
            units += specialty_sub if ((sub0 & r_sub0[t]) | (sub1 & r_sub1[t])) != 0 else 0
            units += shared(goals, r_goals[t]) * per_goal
            units += min(shared(interests, r_interests[t]) * per_interest, interest_cap)
            units += language if (languages & r_languages[t]) != 0 else 0
            units += meeting_format if (formats & r_formats[t]) != 0 else 0
            row[t] = units

    @njit(cache=True, nogil=True)
    def count_pass(count, mine, theirs, add):
        if add:
            for t in range(count.shape[0]):
                count[t] += shared(mine, theirs[t])
        else:
            for t in range(count.shape[0]):
                count[t] = shared(mine, theirs[t])

    @njit(cache=True, nogil=True)
    def slot_pass(row, count, per_slot, slot_cap, shared_check, r_has_windows):
        if shared_check:
            for t in range(row.shape[0]):
                slots = count[t]
                units = row[t] + min(slots * per_slot, slot_cap)
                row[t] = -1 if slots == 0 and r_has_windows[t] else units
        else:
            for t in range(row.shape[0]):
                row[t] += min(count[t] * per_slot, slot_cap)

    @njit(parallel=True, cache=True, nogil=True)
    def fused(
        e_spec, e_spec_units, e_sub0, e_sub1, e_goals, e_per_goal, e_interests, e_per_interest, e_interest_cap,
        e_stage, e_languages, e_formats, e_slots, e_has_windows,
        r_spec, r_sub0, r_sub1, r_goals, r_interests, r_languages, r_formats, r_slots, r_has_windows, base,
        specialty_sub, language, meeting_format, per_slot, slot_cap, require_shared,
        bounds, excluded_mentor, tie_bits, top_index, top_units,
    ):  # fmt: skip
        # For each mentee and tile of mentors: one loop sums specialty, subspecialty, career, goals, interests,
        # language and format (one word each: straight-line code the compiler vectorises, popcounts included);
        # one loop per non-empty word of the mentee's weekly slots counts the slots in common; one adds their
        # capped units; then a scan keeps the best k keys (units, then the reversed index) in a min-heap. The
        # integers are those of the numpy path, term for term.
        n = e_spec.shape[0]
        m = r_spec.shape[0]
        k = top_index.shape[1]
        words = e_slots.shape[1]
        chunk = 16
        tile = 4096
        mask = (np.int64(1) << tie_bits) - 1
        for c in prange((n + chunk - 1) // chunk):
            first = c * chunk
            last = min(n, first + chunk)
            row = np.empty(tile, np.int64)
            count = np.empty(tile, np.int64)
            heaps = np.empty((last - first, k), np.int64)
            sizes = np.zeros(last - first, np.int64)
            for lo in range(0, m, tile):
                hi = min(m, lo + tile)
                width = hi - lo
                for i in range(first, last):
                    spec, spec_units = e_spec[i], e_spec_units[i]
                    sub0, sub1 = e_sub0[i], e_sub1[i]
                    goals, per_goal = e_goals[i], e_per_goal[i]
                    interests, per_interest, interest_cap = e_interests[i], e_per_interest[i], e_interest_cap[i]
                    languages, formats = e_languages[i], e_formats[i]
                    base_pass(
                        row[:width], base[e_stage[i], lo:hi], r_spec[lo:hi], spec, spec_units,
                        r_sub0[lo:hi], r_sub1[lo:hi], sub0, sub1, specialty_sub,
                        r_goals[lo:hi], goals, per_goal, r_interests[lo:hi], interests, per_interest, interest_cap,
                        r_languages[lo:hi], languages, language, r_formats[lo:hi], formats, meeting_format,
                    )  # fmt: skip
                    shared_check = require_shared and e_has_windows[i]
                    if per_slot or shared_check:
                        counted = False
                        for w in range(words):
                            mine = e_slots[i, w]
                            if mine:
                                theirs = r_slots[w]
                                count_pass(count[:width], mine, theirs[lo:hi], counted)
                                counted = True
                        if not counted:
                            count[:width] = 0
                        slot_pass(row[:width], count[:width], per_slot, slot_cap, shared_check, r_has_windows[lo:hi])
                    for p in range(bounds[i], bounds[i + 1]):
                        j = excluded_mentor[p]
                        if lo <= j < hi:
                            row[j - lo] = -1
                    # The best k by key: units, then the lower index first (reversed index in the low bits).
                    heap = heaps[i - first]
                    size = sizes[i - first]
                    floor = heap[0] >> tie_bits if size == k else 0  # the least units that may still enter
                    for t in range(width):
                        units = row[t]
                        if units < floor:
                            continue
                        key = (np.int64(units) << tie_bits) | (m - 1 - lo - t)
                        if size < k:
                            heap[size] = key
                            size += 1
                            if size == k:
                                for s in range(k // 2 - 1, -1, -1):
                                    sift_down(heap, k, s)
                                floor = heap[0] >> tie_bits
                        elif key > heap[0]:
                            heap[0] = key
                            sift_down(heap, k, 0)
                            floor = heap[0] >> tie_bits
                    sizes[i - first] = size
            for i in range(first, last):
                size = sizes[i - first]
                kept = np.sort(heaps[i - first, :size])
                for t in range(k):
                    if t < size:
                        key = kept[size - 1 - t]
                        top_index[i, t] = m - 1 - (key & mask)
                        top_units[i, t] = key >> tie_bits
                    else:
                        top_index[i, t] = -1
                        top_units[i, t] = -1

    @njit(inline="always")
    def popcount(x):
        # 64-bit population count (SWAR); LLVM turns it into one instruction where the CPU has one.
        x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
        x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
        x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))

    @njit(inline="always")
    def sift_down(heap, size, start):
        # Min-heap of int64 keys: the root is the smallest kept.
        pos = start
        item = heap[pos]
        while True:
            child = 2 * pos + 1
            if child >= size:
                break
            if child + 1 < size and heap[child + 1] < heap[child]:
                child += 1
            if heap[child] >= item:
                break
            heap[pos] = heap[child]
            pos = child
        heap[pos] = item

    @njit(cache=True, nogil=True)
    def add_shared(row, mine, theirs, per):
        # row[j] += per × popcount(mine & theirs[j]): one vectorised pass.
        for j in range(theirs.shape[0]):
            row[j] += popcount(mine & theirs[j]) * per

    @njit(cache=True, nogil=True)
    def mark_any(count, mine, theirs):
        for j in range(theirs.shape[0]):
            count[j] |= np.int64((mine & theirs[j]) != np.uint64(0))

    @njit(cache=True, nogil=True)
    def add_capped(row, count, per, cap):
        for j in range(row.shape[0]):
            row[j] += min(count[j] * per, cap)

    @njit(cache=True, nogil=True)
    def start_row(row, r_spec, spec, spec_units, r_stage, career_row):
        for j in range(row.shape[0]):
            row[j] = (spec_units if r_spec[j] == spec else 0) + career_row[r_stage[j]]

    @njit(parallel=True, cache=True, nogil=True)
    def kernel(
        e_spec, e_spec_units, e_sub, e_goals, e_per_goal, e_interests, e_per_interest, e_interest_cap,
        e_stage, e_languages, e_formats, e_slots, e_has_windows,
        r_spec, r_sub, r_goals, r_interests, r_stage, r_languages, r_formats, r_slots, r_has_windows,
        specialty_sub, career, language, meeting_format, per_slot, slot_cap, require_shared,
        bounds, excluded_mentor, closed, tie_bits, top_index, top_units,
    ):  # fmt: skip
        # The mentor arrays are word-major ((words × mentors), each word a contiguous row): every loop over
        # the mentors below is one straight pass that the compiler vectorises.
        n = e_spec.shape[0]
        m = r_spec.shape[0]
        k = top_index.shape[1]
        r_stage_end = np.where(r_stage >= 0, r_stage, career.shape[1]).astype(np.int64)
        chunk = 64
        tile = 2048  # mentors per pass: the tile's words and the row stay in the core's cache
        mask = (np.int64(1) << tie_bits) - 1
        for c in prange((n + chunk - 1) // chunk):
            first = c * chunk
            last = min(n, first + chunk)
            row = np.empty(tile, np.int64)
            count = np.empty(tile, np.int64)
            career_row = np.zeros(career.shape[1] + 1, np.int64)  # the last entry: stage not given
            heaps = np.empty((last - first, k), np.int64)  # each mentee's best keys so far (a min-heap)
            sizes = np.zeros(last - first, np.int64)
            for lo in range(0, m, tile):
                hi = min(m, lo + tile)
                width = hi - lo
                row_t = row[:width]
                count_t = count[:width]
                for i in range(first, last):
                    spec, spec_units = e_spec[i], e_spec_units[i]
                    stage = e_stage[i]
                    if stage >= 0:
                        career_row[: career.shape[1]] = career[stage]
                    else:
                        career_row[:] = 0
                    start_row(
                        row_t, r_spec[lo:hi], spec if spec >= 0 else -2, spec_units, r_stage_end[lo:hi], career_row
                    )
                    if specialty_sub:
                        for w in range(e_sub.shape[1]):
                            if e_sub[i, w]:
                                for j in range(lo, hi):
                                    sub = r_sub[j]
                                    if sub >= 0 and (e_sub[i, sub >> 6] >> np.uint64(sub & 63)) & np.uint64(1):
                                        row[j - lo] += specialty_sub
                                break
                    per_goal = e_per_goal[i]
                    if per_goal:
                        for w in range(e_goals.shape[1]):
                            mine = e_goals[i, w]
                            if mine:
                                add_shared(row_t, mine, r_goals[w, lo:hi], per_goal)
                    per_interest, cap = e_per_interest[i], e_interest_cap[i]
                    if per_interest:
                        count_t[:] = 0
                        for w in range(e_interests.shape[1]):
                            mine = e_interests[i, w]
                            if mine:
                                add_shared(count_t, mine, r_interests[w, lo:hi], 1)
                        add_capped(row_t, count_t, per_interest, cap)
                    for value, mine_all, theirs_all in (
                        (language, e_languages, r_languages),
                        (meeting_format, e_formats, r_formats),
                    ):
                        if value:
                            count_t[:] = 0
                            for w in range(mine_all.shape[1]):
                                mine = mine_all[i, w]
                                if mine:
                                    mark_any(count_t, mine, theirs_all[w, lo:hi])
                            add_shared(row_t, np.uint64(1), count_t.view(np.uint64), value)
                    shared_check = require_shared and e_has_windows[i]
                    if per_slot or shared_check:
                        count_t[:] = 0
                        for w in range(e_slots.shape[1]):
                            mine = e_slots[i, w]
                            if mine:
                                add_shared(count_t, mine, r_slots[w, lo:hi], 1)
                        if per_slot:
                            add_capped(row_t, count_t, per_slot, slot_cap)
                        if shared_check:
                            for j in range(lo, hi):
                                if count[j - lo] == 0 and r_has_windows[j]:
                                    row[j - lo] = -1
                    for j in range(lo, hi):
                        if closed[j]:
                            row[j - lo] = -1
                    for p in range(bounds[i], bounds[i + 1]):
                        j = excluded_mentor[p]
                        if lo <= j < hi:
                            row[j - lo] = -1
                    # The best k by key: units, then the lower index first (reversed index in the low bits).
                    heap = heaps[i - first]
                    size = sizes[i - first]
                    for j in range(lo, hi):
                        units = row[j - lo]
                        if units < 0:
                            continue
                        key = (units << tie_bits) | (m - 1 - j)
                        if size < k:
                            heap[size] = key
                            size += 1
                            if size == k:
                                for s in range(k // 2 - 1, -1, -1):
                                    sift_down(heap, k, s)
                        elif key > heap[0]:
                            heap[0] = key
                            sift_down(heap, k, 0)
                    sizes[i - first] = size
            for i in range(first, last):
                size = sizes[i - first]
                kept = np.sort(heaps[i - first, :size])
                for t in range(k):
                    if t < size:
                        key = kept[size - 1 - t]
                        top_index[i, t] = m - 1 - (key & mask)
                        top_units[i, t] = key >> tie_bits
                    else:
                        top_index[i, t] = -1
                        top_units[i, t] = -1

    _kernel = kernel
