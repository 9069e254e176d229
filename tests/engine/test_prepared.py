"""Prepared mentors: one mentee scored against arrays built once, exactly as the per-pair and cohort paths score."""

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.engine import (
    Clock,
    Exclusions,
    MenteeRecord,
    MentorRecord,
    Vocabulary,
    explain_pair,
    prepare_mentors,
    recommend,
    recommend_prepared,
    score_cohort,
    scores_prepared,
)
from matching.engine.records import id_key

from .support import engine_settings
from .test_scoring import VOCABULARY, attending, mentee_records, mentor_records, resident, weight_values

# Small pools, so that goals and interests are often shared and the interest saturation (3) is reached.
few = st.sets(st.integers(0, 4), max_size=5)

# Mentor ids of both kinds, so that ties are broken across ints and strs as the engine orders them.
mentor_ids = st.sampled_from([0, 1, 2, 7, 10, "a", "b", "m1", "m10", "m2"])


@st.composite
def mentor_lists(draw):
    ids = draw(st.lists(mentor_ids, min_size=1, max_size=7, unique=True))
    mentors = []
    for mentor_id in ids:
        record = draw(mentor_records)
        fields = {name: getattr(record, name) for name in record.__slots__}
        capacity = draw(st.integers(0, 2))
        fields.update(
            id=mentor_id,
            interest_ids=draw(few),
            expertise_goal_ids=draw(few),
            capacity=capacity,
            active_count=draw(st.integers(0, 2)),
            accepting=draw(st.booleans()) or draw(st.booleans()),
            person_id=draw(st.none() | st.integers(0, 3)),
            title=draw(st.none() | st.just("Associate Professor")),
        )
        mentors.append(MentorRecord(**fields))
    return mentors


@st.composite
def cases(draw):
    mentee = draw(mentee_records)
    mentee = MenteeRecord(
        **{name: getattr(mentee, name) for name in mentee.__slots__ if name not in ("person_id", "interest_ids")},
        person_id=draw(st.none() | st.integers(0, 3)),
        interest_ids=draw(few),
    )
    mentors = draw(mentor_lists())
    ids = [m.id for m in mentors] + ["elsewhere"]

    def pairs():
        return st.sets(st.tuples(st.sampled_from([mentee.id, "someone else"]), st.sampled_from(ids)), max_size=3)

    exclusions = draw(st.none() | st.builds(Exclusions, conflicts=pairs(), evaluators=pairs(), already_paired=pairs()))
    return mentee, mentors, exclusions


def _brute_force(mentee, mentors, n, **kwargs):
    """Every pair explained on its own, the scored ones best first, ties by mentor id."""
    pairs = [explain_pair(mentee, mentor, **kwargs) for mentor in mentors]
    scored = [p for p in pairs if p.score is not None]
    return sorted(scored, key=lambda p: (-p.score, id_key(p.mentor_id)))[:n]


@engine_settings
@given(
    case=cases(),
    weights=st.one_of(st.just(None), weight_values),
    n=st.integers(1, 8),
    only_open=st.booleans(),
    require_shared=st.booleans(),
    clock=st.none() | st.just(Clock(offset_minutes=-300)),
)
def test_recommend_prepared_equals_recommend_and_the_per_pair_path(case, weights, n, only_open, require_shared, clock):
    mentee, mentors, exclusions = case
    prepared = pickle.loads(pickle.dumps(prepare_mentors(reversed(mentors))))  # any order in, through a cache
    options = dict(
        weights=weights,
        vocabulary=VOCABULARY,
        exclusions=exclusions,
        only_open=only_open,
        require_shared_availability=require_shared,
        clock=clock,
    )
    fast = recommend_prepared(mentee, prepared, n=n, **options)
    assert fast == recommend(mentee, mentors, n=n, **options)
    expected = _brute_force(mentee, mentors, n, **options)
    assert [(p.mentor_id, p.score, p.reasons) for p in fast] == [(p.mentor_id, p.score, p.reasons) for p in expected]
    assert fast == expected


@engine_settings
@given(case=cases(), weights=st.one_of(st.just(None), weight_values), only_open=st.booleans(), shared=st.booleans())
def test_scores_prepared_equal_the_cohort_scores_in_the_same_order(case, weights, only_open, shared):
    mentee, mentors, exclusions = case
    options = dict(weights=weights, exclusions=exclusions, only_open=only_open, require_shared_availability=shared)
    fast = scores_prepared(mentee, prepare_mentors(mentors), **options)
    cohort = score_cohort([mentee], mentors, **options).as_dict().get(mentee.id, {})
    assert list(fast.items()) == list(cohort.items())  # same floats, same order (ties by mentor id)
    for mentor in mentors:  # and each one what the pair's own explanation adds up to
        pair = explain_pair(mentee, mentor, **options)
        assert fast.get(mentor.id) == pair.score


def test_version_follows_the_records_not_their_order():
    mentors = [attending(id=f"m{k}", stage_order=k, capacity=2) for k in range(5)]
    version = prepare_mentors(mentors).version
    assert prepare_mentors(reversed(mentors)).version == version
    changed = [*mentors[:4], attending(id="m4", stage_order=4, capacity=2, active_count=2)]
    assert prepare_mentors(changed).version != version
    assert prepare_mentors(mentors[:4]).version != version


def test_closed_mentors_read_as_prepared_and_duplicates_are_rejected():
    open_mentor, full = attending(id="open"), attending(id="full", capacity=1, active_count=1)
    prepared = prepare_mentors([open_mentor, full])
    assert [p.mentor_id for p in recommend_prepared(resident(), prepared)] == ["open"]
    assert [p.mentor_id for p in recommend_prepared(resident(), prepared, only_open=False)] == ["full", "open"]
    assert recommend_prepared(resident(), prepare_mentors([]), n=3) == []
    with pytest.raises(ValueError, match="duplicate mentor id"):
        prepare_mentors([open_mentor, open_mentor])


def test_only_the_returned_mentors_are_explained_with_names():
    mentors = [attending(id=f"m{k}") for k in range(30)]
    found = recommend_prepared(resident(), prepare_mentors(mentors), n=3, vocabulary=VOCABULARY)
    assert [p.mentor_id for p in found] == ["m0", "m1", "m10"]  # all equal: ties by id
    assert found[0].reasons[0] == "same specialty (Internal Medicine) and subspecialty (Cardiology)"
    assert recommend_prepared(resident(), prepare_mentors(mentors), n=1, vocabulary=Vocabulary())[0].reasons[0] == (
        "same specialty and subspecialty"
    )


def _common_ground(mentee, mentor) -> bool:
    """Shares the specialty, a goal or an interest: read off the records, not the scores."""
    return (
        (mentee.specialty_id is not None and mentee.specialty_id == mentor.specialty_id)
        or bool(mentee.goal_ids & mentor.expertise_goal_ids)
        or bool(mentee.interest_ids & mentor.interest_ids)
    )


@engine_settings
@given(case=cases(), weights=st.one_of(st.just(None), weight_values), n=st.integers(1, 8))
def test_common_ground_leaves_out_only_mentors_who_share_nothing_and_changes_no_score(case, weights, n):
    mentee, mentors, exclusions = case
    prepared = prepare_mentors(mentors)
    options = dict(weights=weights, vocabulary=VOCABULARY, exclusions=exclusions)
    everyone = recommend_prepared(mentee, prepared, n=len(mentors), **options)
    by_id = {m.id: m for m in mentors}
    expected = [p for p in everyone if _common_ground(mentee, by_id[p.mentor_id])][:n]
    assert recommend_prepared(mentee, prepared, n=n, require_common_ground=True, **options) == expected


def test_common_ground_is_the_specialty_a_goal_or_an_interest_not_the_career_stage():
    me = resident(specialty_id=1, subspecialty_interest_ids=set(), goal_ids={5}, interest_ids={9}, stage_order=1)
    nothing = dict(stage_order=3, capacity=1, subspecialty_id=None, expertise_goal_ids=set(), interest_ids=set())
    mentors = [
        attending(**{**nothing, "id": "specialty", "specialty_id": 1}),
        attending(**{**nothing, "id": "goal", "specialty_id": 2, "expertise_goal_ids": {5}}),
        attending(**{**nothing, "id": "interest", "specialty_id": 2, "interest_ids": {9}}),
        attending(**{**nothing, "id": "stage only", "specialty_id": 2}),
    ]
    found = recommend_prepared(me, prepare_mentors(mentors), n=4, require_common_ground=True)
    assert sorted(p.mentor_id for p in found) == ["goal", "interest", "specialty"]
    assert "stage only" in [p.mentor_id for p in recommend_prepared(me, prepare_mentors(mentors), n=4)]
