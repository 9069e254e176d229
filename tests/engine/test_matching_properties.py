"""Properties of both solvers on random small instances, checked against brute force."""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.engine import Instance, find_blocking_pairs, solve, solve_optimal, solve_stable

from .support import brute_force_optimum, brute_force_stable, capacities, engine_settings, instances, mutual


def assert_feasible(instance, result):
    options = mutual(instance)
    cap = capacities(instance)
    assert set(result.assignment) == {p.id for p in instance.mentees}
    load = {}
    for mentee, mentor in result.assignment.items():
        if mentor is not None:
            assert mentor in options[mentee], f"{mentee}–{mentor} is not acceptable to both sides"
            load[mentor] = load.get(mentor, 0) + 1
    for mentor, count in load.items():
        assert count <= cap[mentor]
    assert result.stats.matched + result.stats.unmatched == len(instance.mentees)
    for mentor, (assigned, capacity) in result.stats.mentor_load.items():
        assert assigned == load.get(mentor, 0) and capacity == cap[mentor]


@engine_settings
@given(instances())
def test_stable_respects_capacities_and_acceptability(instance):
    assert_feasible(instance, solve_stable(instance))


@engine_settings
@given(instances())
def test_stable_has_no_blocking_pair(instance):
    result = solve_stable(instance)
    assert result.stats.blocking_pairs == 0
    assert find_blocking_pairs(instance, result.assignment) == []


@engine_settings
@given(instances())
def test_stable_is_the_resident_optimal_stable_matching(instance):
    assert solve_stable(instance).assignment == brute_force_stable(instance)


@engine_settings
@given(instances(scores="always"))
def test_optimal_respects_capacities_and_acceptability(instance):
    assert_feasible(instance, solve_optimal(instance))


@engine_settings
@given(instances(scores="always"))
def test_optimal_matches_the_most_mentees_then_the_highest_total(instance):
    result = solve_optimal(instance)
    matched, total = brute_force_optimum(instance)
    assert result.stats.matched == matched
    assert math.isclose(result.stats.total_score, total, abs_tol=1e-9)
    assert math.isclose(
        result.stats.total_score, math.fsum(instance.scores[i][j] for i, j in result.pairs()), abs_tol=1e-9
    )
    if matched:
        assert result.stats.worst_score == min(instance.scores[i][j] for i, j in result.pairs())
    # Its blocking pairs are reported, whatever their number.
    assert result.stats.blocking_pairs == len(find_blocking_pairs(instance, result.assignment))


def shuffled(instance: Instance, seed: int) -> Instance:
    rng = random.Random(seed)
    mentees, mentors = list(instance.mentees), list(instance.mentors)
    rng.shuffle(mentees)
    rng.shuffle(mentors)
    scores = None
    if instance.scores is not None:
        rows = list(instance.scores.items())
        rng.shuffle(rows)
        scores = {}
        for mentee, row in rows:
            items = list(row.items())
            rng.shuffle(items)
            scores[mentee] = dict(items)
    exclusions = list(instance.exclusions.items())
    rng.shuffle(exclusions)
    return Instance(mentees=mentees, mentors=mentors, scores=scores, exclusions=dict(exclusions))


@pytest.mark.parametrize("mode", ["stable", "optimal"])
@engine_settings
@given(instance=instances(scores="always"), seed=st.integers(0, 2**32))
def test_same_input_in_any_order_gives_the_same_output(mode, instance, seed):
    expected = solve(instance, mode).to_dict()
    assert solve(shuffled(instance, seed), mode).to_dict() == expected
    assert solve(instance, mode).to_dict() == expected
