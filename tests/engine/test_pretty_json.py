"""The command line's JSON writer gives exactly ``json.dumps(value, indent=2)``, only faster."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.engine import Exclusion
from matching.engine.cli import pretty_json

from .support import engine_settings

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)  # non-ASCII and control characters included: escaped as json escapes them
    | st.sampled_from(list(Exclusion))  # a str subclass
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30,
)


@engine_settings
@given(value=values)
def test_pretty_json_is_json_dumps_with_indent_2(value):
    assert pretty_json(value) == json.dumps(value, indent=2)


def test_tuples_write_as_lists_and_other_keys_are_refused():
    assert pretty_json({"a": (1, 2.5, math.inf)}) == json.dumps({"a": [1, 2.5, math.inf]}, indent=2)
    with pytest.raises(TypeError):
        pretty_json({1: "x"})
    with pytest.raises(TypeError):
        pretty_json({"a": object()})
