"""The cohort's top-k selection (a threshold from group maxima, then a sort of the few candidates) against
the plain definition: every row sorted by units, best first, ties by column, excluded pairs (-1) last."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matching.engine.scoring import _block_top_k

from .support import engine_settings


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
