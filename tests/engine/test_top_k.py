"""The cohort's top-k selection (a threshold from group maxima, then a sort of the few candidates) against
the plain definition: every row sorted by units, best first, ties by column, excluded pairs (-1) last."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matching.engine import Exclusions, MenteeRecord, MentorRecord, kernel, score_cohort, scoring
from matching.engine.scoring import _block_top_k

from .support import engine_settings
from .test_prepared import mentor_ids, mentor_lists
from .test_scoring import _fields, mentee_records


@engine_settings
@given(
    block=st.tuples(st.integers(1, 6), st.integers(1, 300)).flatmap(
        # Few distinct values, so that ties (and ties at the cut) are the rule; -1 is an excluded pair.
        lambda shape: arrays(np.float32, shape, elements=st.sampled_from([-1.0, 0.0, 5.0, 7.0, 99_000.0]))
    ),
    k=st.integers(1, 60),
)
def test_block_top_k_is_a_stable_sort_of_each_row(block, k):
    rows, m = block.shape
    k = min(k, m)
    best, units = _block_top_k(block, k, max(1, (m - 1).bit_length()), m - 1 - np.arange(m, dtype=np.int64))
    order = np.argsort(-block, axis=1, kind="stable")[:, :k]
    expected_units = np.take_along_axis(block, order, axis=1).astype(np.int32)
    expected = np.where(expected_units >= 0, order, -1)
    expected_units[expected_units < 0] = -1
    assert best.dtype == units.dtype == np.int32
    np.testing.assert_array_equal(units, expected_units)
    np.testing.assert_array_equal(best, expected)


# Short windows on few days: pairs often share none (require_shared_availability excludes them) and many
# people give none at all (top-k mode then skips their part of the product).
short_windows = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([0, 60, 120]), st.sampled_from([60, 120, 180])), max_size=2
)


@pytest.fixture(params=["numpy", "kernel", "kernel-per-word"])
def top_k_path(request, monkeypatch):
    """Top-k mode by either path: numpy always; the compiled kernel where numba is installed (dev), in its
    one-pass form (the vocabularies here fit a word) and in its pass-per-word form (larger vocabularies)."""
    if request.param != "numpy" and not kernel.available():
        pytest.skip("numba is not installed (requirements-engine.txt)")
    monkeypatch.setattr(scoring, "_use_kernel", lambda pairs: request.param != "numpy")
    if request.param == "kernel-per-word":
        monkeypatch.setattr(kernel, "_fits_one_pass", lambda left, right: False)
    return request.param


@engine_settings
@given(
    mentees=st.lists(mentee_records, min_size=1, max_size=6),
    mentors=mentor_lists(),
    windows=st.lists(short_windows, min_size=13, max_size=13),
    k=st.integers(1, 8),
    only_open=st.booleans(),
    shared=st.booleans(),
    conflicts=st.sets(st.tuples(st.sampled_from(["r0", "r1", "r2"]), mentor_ids), max_size=4),
)
def test_top_k_scores_are_the_dense_scores_best_first(
    top_k_path, mentees, mentors, windows, k, only_open, shared, conflicts
):
    """Top-k mode reorders both sides (people without interests or windows apart) and selects by threshold:
    the same best k as the dense matrix, ties by mentor id, excluded pairs left out."""
    mentees = [
        MenteeRecord(**{**_fields(p), "id": f"r{i}", "weekly_windows": windows[i]}) for i, p in enumerate(mentees)
    ]
    mentors = [MentorRecord(**{**_fields(p), "weekly_windows": windows[-1 - j]}) for j, p in enumerate(mentors)]
    options = dict(exclusions=Exclusions(conflicts=conflicts), only_open=only_open, require_shared_availability=shared)
    dense = score_cohort(mentees, mentors, **options).as_dict()
    top = score_cohort(mentees, mentors, top_k=k, **options).as_dict()
    assert {i: list(row.items())[:k] for i, row in dense.items()} == {i: list(row.items()) for i, row in top.items()}


def test_top_k_ties_go_by_id_across_the_reordered_groups(top_k_path):
    """Equal scores, mentors in different groups (interests and windows, neither, interests only): by id."""
    mentee = MenteeRecord("r", specialty_id=1)  # no interests, no windows: those give nobody anything
    mentors = [
        MentorRecord("a", specialty_id=1, interest_ids={5}, weekly_windows=[(0, 60, 120)]),
        MentorRecord("b", specialty_id=1),
        MentorRecord("c", specialty_id=1, interest_ids={5}),
        MentorRecord("d", specialty_id=2),
    ]
    top = score_cohort([mentee], mentors, top_k=3)
    assert list(top.as_dict()["r"]) == ["a", "b", "c"]
