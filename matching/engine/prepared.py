"""One mentee against many mentors, fast: the mentors' features prepared once, scored per request.

``prepare_mentors(records)`` turns the mentor records into plain numpy arrays (a code per specialty,
subspecialty and stage; for each goal, interest, language and format the mentors who list it; each
mentor's weekly slots as bits) and stamps them with a ``version``, a digest of the records. The
object pickles, so a caller can keep it in a cache per program and rebuild it only when a mentor's
profile, windows, capacity or mentorships change (or compare versions).

``recommend_prepared(mentee, prepared, ...)`` then scores the mentee against every mentor in a few
vectorised operations (no per-mentor Python), keeps the best ``n`` and explains only those;
``scores_prepared`` returns every score, as ``score_cohort([mentee], mentors).as_dict()`` would.
Both give exactly what ``recommend`` and ``score_cohort`` give on the same records (the same integer
units per component, the same ties by mentor id, the same reasons): tests/engine/test_prepared.py
checks it property by property against the per-pair path.
"""

from __future__ import annotations

import bisect
import hashlib
import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .records import Clock, Exclusions, Id, MenteeRecord, MentorRecord, Vocabulary, id_key
from .scoring import (
    INTEREST_SATURATION,
    UNITS_PER_POINT,
    PairScore,
    Weights,
    _explain,
    _grid,
    _sorted_unique,
    _Units,
)
from .voice import MENTEE, VOICES

FORMAT = 1  # bumped whenever the arrays below change meaning: a cached object of another format is stale
_WORDS = 11  # 672 weekly slots in 11 64-bit words


def _postings(sets: Sequence[frozenset]) -> dict:
    """item -> sorted int32 array of the rows whose set holds it."""
    rows: dict = {}
    for row, items in enumerate(sets):
        for item in items:
            rows.setdefault(item, []).append(row)
    return {item: np.array(found, dtype=np.int32) for item, found in rows.items()}


def _codes(values: Sequence) -> tuple[dict, np.ndarray]:
    """value -> code over the non-None values, and the code of each row (-1 for None)."""
    index = {value: code for code, value in enumerate(sorted({v for v in values if v is not None}, key=id_key))}
    return index, np.array([index[v] if v is not None else -1 for v in values], dtype=np.int32).reshape(-1)


def _packed_slots(people: Sequence) -> np.ndarray:
    """(people × 11) uint64: each person's weekly 15-minute slots as bits."""
    bits = np.packbits(_grid(people), axis=1)  # (people × 84) uint8
    padded = np.zeros((len(people), _WORDS * 8), np.uint8)
    padded[:, : bits.shape[1]] = bits
    return padded.view(np.uint64)


def _canonical(mentor: MentorRecord) -> tuple:
    def ids(values: Iterable) -> tuple:
        return tuple(sorted(values, key=id_key))

    return (
        mentor.id,
        mentor.specialty_id,
        mentor.subspecialty_id,
        ids(mentor.expertise_goal_ids),
        ids(mentor.interest_ids),
        mentor.stage_order,
        ids(mentor.language_ids),
        ids(mentor.format_ids),
        mentor.weekly_windows,
        mentor.capacity,
        mentor.accepting,
        mentor.active_count,
        mentor.person_id,
        mentor.title,
    )


def _version(ordered: Sequence[MentorRecord]) -> str:
    canonical = pickle.dumps((FORMAT, [_canonical(p) for p in ordered]), protocol=5)
    return f"{FORMAT}-{hashlib.blake2b(canonical, digest_size=16).hexdigest()}"


def mentors_version(mentors: Iterable[MentorRecord]) -> str:
    """The ``version`` that ``prepare_mentors(mentors)`` would stamp, without building the arrays: a digest
    of the records in id order (sets sorted) and of this module's format."""
    return _version(_sorted_unique(list(mentors), "mentor"))


@dataclass(frozen=True, eq=False)
class PreparedMentors:
    """Mentor features as plain arrays, built once by ``prepare_mentors``; picklable.

    Rows follow ``mentor_ids`` (sorted: ints, then strs). ``version`` changes whenever any record does.
    """

    version: str
    records: tuple[bytes, ...]  # each mentor's record, pickled: only the returned ones are ever rebuilt
    mentor_ids: tuple
    specialty_index: dict
    specialty: np.ndarray  # int32 code per mentor, -1 = not given
    subspecialty_index: dict
    subspecialty: np.ndarray
    stage_values: np.ndarray  # the distinct stage orders, sorted
    stage: np.ndarray  # int32 index into stage_values, -1 = not given
    goals: dict  # goal id -> mentor rows with that expertise
    interests: dict
    languages: dict
    formats: dict
    has_languages: np.ndarray  # bool
    has_formats: np.ndarray
    slots: np.ndarray  # (mentors × 11) uint64 weekly slot bits
    has_windows: np.ndarray  # bool: gave any weekly window (even one shorter than a slot)
    closed: np.ndarray  # bool: not accepting, or no open spot
    by_person: dict  # person id -> tuple of the mentor rows of that person

    def __len__(self) -> int:
        return len(self.mentor_ids)

    def mentor(self, row: int) -> MentorRecord:
        """The record of the mentor in ``row``."""
        return pickle.loads(self.records[row])

    def row(self, mentor_id: Id) -> int | None:
        """The row of ``mentor_id``, or None (a binary search over the sorted ids)."""
        key = id_key(mentor_id)
        row = bisect.bisect_left(self.mentor_ids, key, key=id_key)
        return row if row < len(self.mentor_ids) and id_key(self.mentor_ids[row]) == key else None


def prepare_mentors(mentors: Iterable[MentorRecord]) -> PreparedMentors:
    """Everything about the mentors that scoring one mentee needs, as arrays. Raises ValueError on a duplicate id."""
    ordered = _sorted_unique(list(mentors), "mentor")
    specialty_index, specialty = _codes([p.specialty_id for p in ordered])
    subspecialty_index, subspecialty = _codes([p.subspecialty_id for p in ordered])
    stages = sorted({p.stage_order for p in ordered if p.stage_order is not None})
    stage_at = {s: k for k, s in enumerate(stages)}
    by_person: dict = {}
    for j, p in enumerate(ordered):
        if p.person_id is not None:
            by_person.setdefault(p.person_id, []).append(j)
    return PreparedMentors(
        version=_version(ordered),
        records=tuple(pickle.dumps(p, protocol=5) for p in ordered),
        mentor_ids=tuple(p.id for p in ordered),
        specialty_index=specialty_index,
        specialty=specialty,
        subspecialty_index=subspecialty_index,
        subspecialty=subspecialty,
        stage_values=np.array(stages, dtype=np.int64),
        stage=np.array([stage_at[p.stage_order] if p.stage_order is not None else -1 for p in ordered], np.int32),
        goals=_postings([p.expertise_goal_ids for p in ordered]),
        interests=_postings([p.interest_ids for p in ordered]),
        languages=_postings([p.language_ids for p in ordered]),
        formats=_postings([p.format_ids for p in ordered]),
        has_languages=np.array([bool(p.language_ids) for p in ordered], dtype=bool),
        has_formats=np.array([bool(p.format_ids) for p in ordered], dtype=bool),
        slots=_packed_slots(ordered),
        has_windows=np.array([bool(p.weekly_windows) for p in ordered], dtype=bool),
        closed=np.array([not p.accepting or p.open_spots <= 0 for p in ordered], dtype=bool),
        by_person={person: tuple(rows) for person, rows in by_person.items()},
    )


def _shared_count(postings: Mapping, items: frozenset, m: int) -> np.ndarray:
    """How many of ``items`` each mentor lists (int64 per mentor)."""
    found = [postings[x] for x in items if x in postings]
    if not found:
        return np.zeros(m, np.int64)
    return np.bincount(np.concatenate(found), minlength=m)


def _units(
    mentee: MenteeRecord,
    prepared: PreparedMentors,
    units: _Units,
    exclusions: Exclusions | None,
    only_open: bool,
    require_shared: bool,
    require_common_ground: bool = False,
) -> np.ndarray:
    """Each mentor's score in units (int64), -1 where the pair is excluded: what ``score_cohort`` gives.
    ``require_common_ground``: also -1 where the pair shares neither the specialty, nor a goal, nor an
    interest, whatever the weights (``recommend_prepared``)."""
    m = len(prepared.mentor_ids)
    total = np.zeros(m, np.int64)

    # Specialty and subspecialty.
    code = prepared.specialty_index.get(mentee.specialty_id, -2) if mentee.specialty_id is not None else -2
    same = prepared.specialty == code
    common = same
    if mentee.subspecialty_interest_ids:
        total += same * units.specialty_same
        codes = [
            prepared.subspecialty_index[s] for s in mentee.subspecialty_interest_ids if s in prepared.subspecialty_index
        ]
        if codes:
            total += np.isin(prepared.subspecialty, codes) * units.specialty_sub
    else:
        total += same * units.specialty_only

    # Goals, interests (capped at the saturation).
    if mentee.goal_ids:
        goals = _shared_count(prepared.goals, mentee.goal_ids, m)
        total += goals * units.per_goal(len(mentee.goal_ids))
        common = common | (goals > 0)
    if mentee.interest_ids:
        per = units.per_interest(len(mentee.interest_ids))
        cap = min(len(mentee.interest_ids), INTEREST_SATURATION) * per
        interests = _shared_count(prepared.interests, mentee.interest_ids, m)
        total += np.minimum(interests * per, cap)
        common = common | (interests > 0)

    # Career: one value per distinct mentor stage.
    if mentee.stage_order is not None and prepared.stage_values.size:
        table = np.array([units.career(int(s) - mentee.stage_order) for s in prepared.stage_values] + [0], np.int64)
        total += table[prepared.stage]  # -1 (not given) reads the trailing 0

    # Weekly availability: shared slots by AND and popcount.
    shared_none = None
    if mentee.weekly_windows and (units.availability_per_slot or require_shared):
        mine = _packed_slots([mentee])[0]
        words = np.flatnonzero(mine)
        if words.size:
            overlap = np.bitwise_count(prepared.slots[:, words] & mine[words]).sum(axis=1, dtype=np.int64)
        else:
            overlap = np.zeros(m, np.int64)
        if units.availability_per_slot:
            total += np.minimum(overlap * units.availability_per_slot, units.availability_cap)
        if require_shared:
            shared_none = (overlap == 0) & prepared.has_windows

    # Language and meeting format: any in common.
    if units.language and mentee.language_ids:
        total += (_shared_count(prepared.languages, mentee.language_ids, m) > 0) * units.language
    if units.meeting_format and mentee.format_ids:
        total += (_shared_count(prepared.formats, mentee.format_ids, m) > 0) * units.meeting_format

    # Exclusions.
    if mentee.person_id is not None and mentee.person_id in prepared.by_person:
        total[list(prepared.by_person[mentee.person_id])] = -1
    if exclusions is not None:
        for pairs in (exclusions.conflicts, exclusions.evaluators, exclusions.already_paired):
            for mentee_id, mentor_id in pairs:
                if mentee_id == mentee.id and (j := prepared.row(mentor_id)) is not None:
                    total[j] = -1
    if only_open:
        total[prepared.closed] = -1
    if shared_none is not None:
        total[shared_none] = -1
    if require_common_ground:
        total[~common] = -1
    return total


def _ranked(total: np.ndarray, n: int | None) -> np.ndarray:
    """Rows of the scored mentors, best first, ties by row (mentor id); the best ``n`` when given."""
    scored = np.flatnonzero(total >= 0)
    if n is not None and scored.size > n:
        values = total[scored]
        cut = np.partition(values, scored.size - n)[scored.size - n]  # the n-th best score
        above = scored[values > cut]
        scored = np.concatenate([above, scored[values == cut][: n - above.size]])
    return scored[np.lexsort((scored, -total[scored]))]


def scores_prepared(
    mentee: MenteeRecord,
    prepared: PreparedMentors,
    *,
    weights: Weights | None = None,
    exclusions: Exclusions | None = None,
    only_open: bool = False,
    require_shared_availability: bool = False,
) -> dict[Id, float]:
    """{mentor_id: score 0–100} over the mentors not excluded, best first (ties by mentor id): exactly
    ``score_cohort([mentee], mentors, ...).as_dict()[mentee.id]``."""
    total = _units(mentee, prepared, _Units(weights or Weights()), exclusions, only_open, require_shared_availability)
    rows = _ranked(total, None)
    ids = prepared.mentor_ids
    return dict(zip([ids[j] for j in rows.tolist()], (total[rows] / UNITS_PER_POINT).tolist(), strict=True))


def recommend_prepared(
    mentee: MenteeRecord,
    prepared: PreparedMentors,
    *,
    n: int = 10,
    weights: Weights | None = None,
    vocabulary: Vocabulary | None = None,
    exclusions: Exclusions | None = None,
    only_open: bool = True,
    require_shared_availability: bool = False,
    require_common_ground: bool = False,
    clock: Clock | None = None,
) -> list[PairScore]:
    """The mentee's best ``n`` eligible mentors, best first (ties by mentor id), each explained:
    exactly ``recommend(mentee, mentors, ...)`` on the records ``prepared`` was built from.

    ``require_common_ground``: only mentors who share something with the mentee beyond the
    career stage, time, language and format that nearly every pair shares: the specialty, a goal
    or an interest. Scores are unchanged; a mentor without
    common ground is left out, as an excluded one is (what "Recommended for you" offers).

    ``only_open`` reads capacity as it was when the mentors were prepared: a caller that caches
    ``prepared`` re-checks the returned mentors' open spots on the request path."""
    if n < 1 or not prepared.mentor_ids:
        return []
    units = _Units(weights or Weights())
    total = _units(mentee, prepared, units, exclusions, only_open, require_shared_availability, require_common_ground)
    vocab = vocabulary or Vocabulary()
    return [
        _explain(
            mentee,
            prepared.mentor(j),
            units,
            vocab,
            exclusions,
            only_open,
            require_shared_availability,
            VOICES[MENTEE],
            clock,
        )
        for j in _ranked(total, n).tolist()
    ]
