"""The compiled top-k kernel (``matching/engine/kernel.py``, numba) against the numpy path: the same best k,
units and ties by mentor id. numba is optional: these run where it is installed (dev), and the numpy path
is what runs without it (tests/engine/test_top_k.py runs both paths against the dense matrix)."""

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.engine import Exclusions, MenteeRecord, MentorRecord, Weights, kernel, score_cohort, scoring

from .support import engine_settings

needs_numba = pytest.mark.skipif(not kernel.available(), reason="numba is not installed (requirements-engine.txt)")


def _cohort(seed: int, n: int, m: int, vocabulary: int) -> tuple[list[MenteeRecord], list[MentorRecord]]:
    """People over vocabularies of ``vocabulary`` items: past 64, every set takes more than one word."""
    rng = random.Random(seed)

    def some(limit: int) -> set:
        return set(rng.sample(range(vocabulary), rng.randint(0, min(limit, vocabulary))))

    def windows() -> list:
        return [
            (rng.randrange(7), start, start + rng.choice([14, 30, 60, 120, 600]))
            for start in rng.sample(range(0, 1380, 15), rng.randint(0, 3))
        ]

    mentees = [
        MenteeRecord(
            f"r{i}",
            specialty_id=rng.choice([None, *range(5)]),
            subspecialty_interest_ids=some(3),
            goal_ids=some(6),
            interest_ids=some(6),
            stage_order=rng.choice([None, *range(8)]),
            language_ids=some(3),
            format_ids=some(2),
            weekly_windows=windows(),
            person_id=rng.choice([None, f"p{rng.randrange(20)}"]),
        )
        for i in range(n)
    ]
    mentors = [
        MentorRecord(
            rng.choice([j, f"a{j}"]),
            specialty_id=rng.choice([None, *range(5)]),
            subspecialty_id=rng.choice([None, *range(vocabulary)]),
            expertise_goal_ids=some(8),
            interest_ids=some(8),
            stage_order=rng.choice([None, *range(12)]),
            language_ids=some(3),
            format_ids=some(2),
            weekly_windows=windows(),
            capacity=rng.randint(0, 2),
            accepting=rng.random() > 0.1,
            person_id=rng.choice([None, f"p{rng.randrange(20)}"]),
        )
        for j in range(m)
    ]
    return mentees, mentors


def _both(monkeypatch, mentees, mentors, **options):
    found = []
    for compiled in (True, False):
        monkeypatch.setattr(scoring, "_use_kernel", lambda pairs, compiled=compiled: compiled)
        found.append(score_cohort(mentees, mentors, **options))
    return found


@needs_numba
@pytest.mark.parametrize("vocabulary", [5, 70, 200])
@pytest.mark.parametrize("k", [1, 7, 500])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"only_open": True, "require_shared_availability": True},
        {"weights": Weights(specialty=0, interests=0, availability=0.0001)},
    ],
)
def test_kernel_gives_the_numpy_paths_top_k(monkeypatch, vocabulary, k, options):
    mentees, mentors = _cohort(vocabulary * 31 + k, 60, 90, vocabulary)
    conflicts = {(p.id, q.id) for p, q in zip(mentees[::7], mentors[::5], strict=False)}
    ours, theirs = _both(monkeypatch, mentees, mentors, top_k=k, exclusions=Exclusions(conflicts=conflicts), **options)
    assert ours.top_index.dtype == theirs.top_index.dtype == np.int32
    np.testing.assert_array_equal(ours.top_units, theirs.top_units)
    np.testing.assert_array_equal(ours.top_index, theirs.top_index)
    assert ours.excluded == theirs.excluded and ours.closed == theirs.closed
    assert (ours.top_units >= 0).any()  # something was scored: the comparison is not of two empty lists


@needs_numba
@pytest.mark.parametrize("one_pass", [True, False])
def test_kernel_breaks_ties_across_its_mentor_tiles_by_id(monkeypatch, one_pass):
    """9,000 mentors of equal score (three tiles of 4,096 in the one-pass kernel, five of 2,048 in the
    per-word one): the first k by id, whichever tile they are in."""
    monkeypatch.setattr(
        kernel, "_fits_one_pass", lambda left, right, fits=kernel._fits_one_pass: one_pass and fits(left, right)
    )
    mentee = MenteeRecord("r", specialty_id=1)
    mentors = [MentorRecord(j, specialty_id=1 if j % 3 else 2) for j in range(9000)]
    ours, theirs = _both(monkeypatch, [mentee], mentors, top_k=40)
    np.testing.assert_array_equal(ours.top_index, theirs.top_index)
    assert ours.top_index[0].tolist() == [j for j in range(9000) if j % 3][:40]


def _three_paths(mentees, mentors, **options):
    """score_cohort's top-k by the numpy path, the one-pass kernel and the per-word kernel."""
    found = []
    for path in ("numpy", "one pass", "per word"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(scoring, "_use_kernel", lambda pairs, path=path: path != "numpy")
            if path == "per word":
                patch.setattr(kernel, "_fits_one_pass", lambda left, right: False)
            found.append(score_cohort(mentees, mentors, **options))
    return found


def _small_world(seed: int, n: int, m: int, subspecialties: int) -> tuple[list[MenteeRecord], list[MentorRecord]]:
    """Few distinct profiles (two specialties, three goals, four interests, two languages, a few windows), so that
    equal scores, and equal scores at the k-th place, are the rule; subspecialties over one or two words."""
    rng = random.Random(seed)

    def pick(size: int, most: int) -> set:
        return set(rng.sample(range(size), rng.randint(0, min(most, size))))

    def windows() -> list:
        return [
            (rng.randrange(2), rng.choice([0, 60, 600]), rng.choice([600, 660, 1200])) for _ in range(rng.randint(0, 2))
        ]

    mentees = [
        MenteeRecord(
            f"r{i}",
            specialty_id=rng.choice([None, 1, 2]),
            subspecialty_interest_ids=pick(subspecialties, 2),
            goal_ids=pick(3, 2),
            interest_ids=pick(4, 4),
            stage_order=rng.choice([None, 0, 2]),
            language_ids=pick(2, 1),
            format_ids=pick(2, 1),
            weekly_windows=windows(),
        )
        for i in range(n)
    ]
    mentors = [
        MentorRecord(
            f"a{j:03d}",
            specialty_id=rng.choice([None, 1, 2]),
            subspecialty_id=rng.choice([None, rng.randrange(subspecialties)]),
            expertise_goal_ids=pick(3, 2),
            interest_ids=pick(4, 3),
            stage_order=rng.choice([None, 1, 4, 9]),
            language_ids=pick(2, 1),
            format_ids=pick(2, 2),
            weekly_windows=windows(),
            capacity=rng.randint(0, 2),
            accepting=rng.random() > 0.2,
        )
        for j in range(m)
    ]
    return mentees, mentors


@needs_numba
@engine_settings
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    m=st.integers(1, 300),
    subspecialties=st.sampled_from([3, 64, 65, 128]),
    k=st.integers(1, 60),
    only_open=st.booleans(),
    shared=st.booleans(),
    weights=st.sampled_from([Weights(), Weights(availability=1.0, goals=0.0), Weights(specialty=3.0, career=0.0)]),
)
def test_the_kernels_and_the_numpy_path_give_the_same_top_k_ties_included(
    seed, n, m, subspecialties, k, only_open, shared, weights
):
    """Random instances full of ties: the same mentors, units and order (ties by mentor id) by all three paths."""
    mentees, mentors = _small_world(seed, n, m, subspecialties)
    conflicts = {(p.id, q.id) for p, q in zip(mentees[::3], mentors[::4], strict=False)}
    numpy_path, one_pass, per_word = _three_paths(
        mentees,
        mentors,
        top_k=k,
        weights=weights,
        exclusions=Exclusions(conflicts=conflicts),
        only_open=only_open,
        require_shared_availability=shared,
    )
    for found in (one_pass, per_word):
        np.testing.assert_array_equal(found.top_units, numpy_path.top_units)
        np.testing.assert_array_equal(found.top_index, numpy_path.top_index)
        assert found.excluded == numpy_path.excluded and found.closed == numpy_path.closed


@needs_numba
def test_the_one_pass_kernel_takes_the_usual_vocabularies_and_not_larger_ones():
    """Goals, interests, languages, formats of up to 64 items and subspecialties of up to 128 take one pass."""
    units = scoring._Units(Weights())
    for subspecialties, expected in ((128, True), (129, False)):
        mentees, _ = _small_world(1, 5, 1, subspecialties)
        mentors = [MentorRecord(f"a{j}", subspecialty_id=j) for j in range(subspecialties)]  # every one present
        left, right, _ = kernel.features(mentees, mentors, units, kernel.slot_bits)
        assert kernel._fits_one_pass(left, right) is expected
    mentees, mentors = _cohort(3, 60, 90, 200)  # sets past 64 items: more than one word
    left, right, _ = kernel.features(mentees, mentors, units, kernel.slot_bits)
    assert not kernel._fits_one_pass(left, right)


def test_without_numba_the_numpy_path_runs():
    """Where numba is absent (the web app, the demo), ``available()`` is False and top-k mode still works."""
    code = (
        "from matching.engine import MenteeRecord, MentorRecord, kernel, score_cohort;"
        "print(kernel.available(), score_cohort([MenteeRecord('r', specialty_id=1)],"
        " [MentorRecord('a', specialty_id=1), MentorRecord('b')], top_k=1).as_dict());"
        "import sys; print('numba' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        env={"MENTORMATCH_ENGINE_NUMBA": "0", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.split("\n")[:2] == ["False {'r': {'a': 20.0}}", "False"]


def test_the_engine_loads_numba_only_for_large_top_k():
    """The web app imports the engine, scores small cohorts and recommends: numba (where installed) stays unloaded."""
    code = (
        "import sys; from matching.engine import MenteeRecord, MentorRecord, recommend, recommend_prepared,"
        " prepare_mentors, score_cohort; mentors = [MentorRecord('a', specialty_id=1)];"
        " mentee = MenteeRecord('r', specialty_id=1); score_cohort([mentee], mentors, top_k=1);"
        " recommend(mentee, mentors); recommend_prepared(mentee, prepare_mentors(mentors));"
        " print('numba' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.strip() == "False"


def test_only_large_cohorts_go_to_the_kernel():
    assert not scoring._use_kernel(scoring.KERNEL_MIN_PAIRS - 1)
    assert scoring._use_kernel(scoring.KERNEL_MIN_PAIRS) == kernel.available()
