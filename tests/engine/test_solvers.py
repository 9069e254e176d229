"""Named edge cases for both modes, and the blocking-pair checker."""

import pytest

from matching.engine import (
    Exclusion,
    Instance,
    InstanceError,
    MenteePrefs,
    MentorPrefs,
    count_blocking_pairs,
    find_blocking_pairs,
    solve,
    solve_optimal,
    solve_stable,
)
from matching.engine.optimal import _integer_scores

BOTH = pytest.mark.parametrize("mode", ["stable", "optimal"])


def full_scores(mentees, mentors, value=0.5):
    return {i: {j: value for j in mentors} for i in mentees}


@BOTH
def test_no_mentees_gives_an_empty_assignment(mode):
    result = solve(Instance(mentees=[], mentors=[MentorPrefs("a1", 2)], scores={}), mode)
    assert result.assignment == {}
    assert result.stats.matched == 0 and result.stats.unmatched == 0
    assert result.stats.mentor_load == {"a1": (0, 2)}


@BOTH
def test_no_mentors_leaves_everyone_unmatched(mode):
    result = solve(Instance(mentees=[MenteePrefs("r1"), MenteePrefs("r2")], mentors=[], scores={}), mode)
    assert result.assignment == {"r1": None, "r2": None}
    assert result.stats.unmatched_mentees == ("r1", "r2")
    assert result.stats.total_score == 0


@BOTH
def test_mentor_with_capacity_zero_gets_nobody(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1", "a2")), MenteePrefs("r2", ranking=("a1",))],
        mentors=[MentorPrefs("a1", capacity=0), MentorPrefs("a2", capacity=1)],
        scores=full_scores(["r1", "r2"], ["a1", "a2"]),
    )
    result = solve(instance, mode)
    assert result.assignment == {"r1": "a2", "r2": None}
    assert result.stats.mentor_load["a1"] == (0, 0)


@BOTH
def test_mentor_not_accepting_gets_nobody(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1")],
        mentors=[MentorPrefs("a1", capacity=3, accepting=False)],
        scores=full_scores(["r1"], ["a1"]),
    )
    assert solve(instance, mode).assignment == {"r1": None}


def test_more_mentees_than_spots_leaves_the_lowest_ranked_unmatched():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2"), MenteePrefs("r3")],
        mentors=[MentorPrefs("a1", capacity=2, ranking=("r3", "r1", "r2"))],
    )
    result = solve_stable(instance)
    assert result.assignment == {"r1": "a1", "r2": None, "r3": "a1"}
    assert result.stats.unmatched_mentees == ("r2",)


def test_more_mentees_than_spots_in_optimal_mode_keeps_the_best_scores():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2"), MenteePrefs("r3")],
        mentors=[MentorPrefs("a1", capacity=2)],
        scores={"r1": {"a1": 0.5}, "r2": {"a1": 0.9}, "r3": {"a1": 0.7}},
    )
    result = solve_optimal(instance)
    assert result.assignment == {"r1": None, "r2": "a1", "r3": "a1"}
    assert result.stats.total_score == pytest.approx(1.6)
    assert result.stats.worst_score == 0.7


@BOTH
def test_empty_ranking_accepts_nobody(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=()), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1", capacity=2)],
        scores=full_scores(["r1", "r2"], ["a1"]),
    )
    assert solve(instance, mode).assignment == {"r1": None, "r2": "a1"}


@BOTH
def test_empty_ranking_of_a_mentor_accepts_nobody(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1")],
        mentors=[MentorPrefs("a1", capacity=2, ranking=())],
        scores=full_scores(["r1"], ["a1"]),
    )
    assert solve(instance, mode).assignment == {"r1": None}


def test_one_sided_rankings_fall_back_to_score_order():
    # Mentees ranked nothing: they propose in score order. The mentor ranked: its list decides.
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1", capacity=1, ranking=("r2", "r1")), MentorPrefs("a2", capacity=1)],
        scores={"r1": {"a1": 0.9, "a2": 0.4}, "r2": {"a1": 0.8, "a2": 0.7}},
    )
    result = solve_stable(instance)
    assert result.assignment == {"r1": "a2", "r2": "a1"}
    assert result.ranks == {"r1": 2, "r2": 1}


def test_unranked_side_without_scores_accepts_everyone_in_id_order():
    instance = Instance(
        mentees=[MenteePrefs("r2"), MenteePrefs("r1")],
        mentors=[MentorPrefs("a2", capacity=1), MentorPrefs("a1", capacity=1)],
    )
    # Both mentees propose to a1 first (id order); a1 keeps r1 (id order); r2 goes on to a2.
    assert solve_stable(instance).assignment == {"r1": "a1", "r2": "a2"}


def test_a_mentor_nobody_ranked_gets_nobody():
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1",)), MenteePrefs("r2", ranking=("a1",))],
        mentors=[MentorPrefs("a1", capacity=2), MentorPrefs("a2", capacity=5)],
    )
    result = solve_stable(instance)
    assert result.assignment == {"r1": "a1", "r2": "a1"}
    assert result.stats.mentor_load["a2"] == (0, 5)


@BOTH
def test_never_entries_exclude_the_pair(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1", never=frozenset({"a1"})), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1", capacity=2, never=frozenset({"r2"})), MentorPrefs("a2", capacity=2)],
        scores=full_scores(["r1", "r2"], ["a1", "a2"]),
    )
    assert solve(instance, mode).assignment == {"r1": "a2", "r2": "a2"}


@BOTH
def test_unscored_pairs_are_not_acceptable_when_scores_are_given(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1", "a2"))],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a2": 0.1}},
    )
    assert solve(instance, mode).assignment == {"r1": "a2"}


@BOTH
def test_excluded_pairs_are_never_matched(mode):
    instance = Instance(
        mentees=[MenteePrefs("r1")],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a1": 1.0, "a2": 0.1}},
        exclusions={("r1", "a1"): Exclusion.CONFLICT_OF_INTEREST},
    )
    assert solve(instance, mode).assignment == {"r1": "a2"}


@BOTH
def test_ties_in_scores_are_broken_by_id(mode):
    instance = Instance(
        mentees=[MenteePrefs("r2"), MenteePrefs("r1")],
        mentors=[MentorPrefs("a1", capacity=1)],
        scores={"r1": {"a1": 0.5}, "r2": {"a1": 0.5}},
    )
    assert solve(instance, mode).assignment == {"r1": "a1", "r2": None}


def test_integer_ids_sort_numerically():
    instance = Instance(mentees=[MenteePrefs(10), MenteePrefs(2)], mentors=[MentorPrefs(1, capacity=1)])
    result = solve_stable(instance)
    assert list(result.assignment) == [2, 10]
    assert result.assignment == {2: 1, 10: None}


def test_stable_result_is_the_resident_optimal_one():
    # Two stable matchings exist: {r1-a1, r2-a2} (residents' first choices) and {r1-a2, r2-a1}.
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1", "a2")), MenteePrefs("r2", ranking=("a2", "a1"))],
        mentors=[MentorPrefs("a1", ranking=("r2", "r1")), MentorPrefs("a2", ranking=("r1", "r2"))],
    )
    result = solve_stable(instance)
    assert result.assignment == {"r1": "a1", "r2": "a2"}
    assert result.stats.rank_distribution == {1: 2}
    assert count_blocking_pairs(instance, {"r1": "a2", "r2": "a1"}) == 0


def test_stats_report_ranks_scores_and_mentor_load():
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1", "a2")), MenteePrefs("r2", ranking=("a1", "a2")), MenteePrefs("r3")],
        mentors=[MentorPrefs("a1", capacity=1, ranking=("r2", "r1")), MentorPrefs("a2", capacity=1)],
        scores={"r1": {"a1": 0.9, "a2": 0.6}, "r2": {"a1": 0.8, "a2": 0.2}, "r3": {"a2": 0.1}},
    )
    stats = solve_stable(instance).stats
    assert stats.matched == 2 and stats.unmatched_mentees == ("r3",)
    assert stats.rank_distribution == {1: 1, 2: 1}
    assert stats.total_score == pytest.approx(1.4)
    assert stats.worst_score == 0.6
    assert stats.score_distribution["min"] == 0.6 and stats.score_distribution["max"] == 0.8
    assert stats.mentor_load == {"a1": (1, 1), "a2": (1, 1)}
    assert stats.blocking_pairs == 0


def test_optimal_prefers_more_matches_over_a_higher_total():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a1": 1.0, "a2": 0.0}, "r2": {"a1": 0.0}},
    )
    result = solve_optimal(instance)
    assert result.assignment == {"r1": "a2", "r2": "a1"}
    assert result.stats.total_score == 0.0


def test_optimal_matches_everyone_even_at_a_large_cost_in_score():
    # Five mentees could take 500 points between them; matching all six leaves 400. Cardinality comes first.
    mentees = [f"r{i}" for i in range(6)]
    scores = {m: {f"a{k}": 100.0 for k in range(5)} for m in mentees[:5]}
    for m in mentees[:5]:
        scores[m]["a5"] = 0.0
    scores["r5"] = {"a0": 0.0}
    result = solve_optimal(
        Instance(
            mentees=[MenteePrefs(m) for m in mentees], mentors=[MentorPrefs(f"a{k}") for k in range(6)], scores=scores
        )
    )
    assert result.stats.matched == 6
    assert result.stats.total_score == 400.0
    assert result.stats.worst_score == 0.0


def test_optimal_maximises_total_score_among_maximum_matchings():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a1": 0.9, "a2": 0.8}, "r2": {"a1": 0.85, "a2": 0.1}},
    )
    # Greedy would give r1-a1, r2-a2 (1.0); the optimum is r1-a2, r2-a1 (1.65).
    result = solve_optimal(instance)
    assert result.assignment == {"r1": "a2", "r2": "a1"}
    assert result.stats.total_score == pytest.approx(1.65)
    assert result.stats.worst_score == 0.8


def test_optimal_mode_reports_the_blocking_pairs_it_leaves():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2")],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a1": 0.9, "a2": 0.8}, "r2": {"a1": 0.85, "a2": 0.1}},
    )
    # r1 and a1 score 0.9 together, above what either got: stable mode would pair them.
    assert solve_optimal(instance).stats.blocking_pairs == 1
    assert solve_stable(instance).stats.blocking_pairs == 0


def test_optimal_needs_scores():
    with pytest.raises(InstanceError, match="optimal mode needs scores"):
        solve_optimal(Instance(mentees=[MenteePrefs("r1")], mentors=[MentorPrefs("a1")]))


def test_solve_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="unknown mode"):
        solve(Instance(mentees=[], mentors=[]), "greedy")


@pytest.mark.parametrize(
    "instance, message",
    [
        (Instance(mentees=[MenteePrefs("r1"), MenteePrefs("r1")], mentors=[]), "duplicate mentee id 'r1'"),
        (Instance(mentees=[], mentors=[MentorPrefs("a1", capacity=-1)]), "negative capacity"),
        (Instance(mentees=[MenteePrefs("r1", ranking=("a9",))], mentors=[]), "unknown id 'a9'"),
        (Instance(mentees=[MenteePrefs("r1", ranking=("a1", "a1"))], mentors=[MentorPrefs("a1")]), "'a1' listed twice"),
        (Instance(mentees=[], mentors=[], scores={"r9": {}}), "unknown mentee 'r9'"),
        (Instance(mentees=[MenteePrefs("r1")], mentors=[], scores={"r1": {"a9": 1}}), "unknown mentor 'a9'"),
        (
            Instance(mentees=[MenteePrefs("r1")], mentors=[MentorPrefs("a1")], scores={"r1": {"a1": float("nan")}}),
            "not a finite",
        ),
    ],
)
def test_bad_instances_name_the_problem(instance, message):
    with pytest.raises(InstanceError, match=message):
        solve_stable(instance)


def test_blocking_pairs_of_a_hand_made_assignment():
    instance = Instance(
        mentees=[MenteePrefs("r1", ranking=("a1", "a2")), MenteePrefs("r2", ranking=("a1", "a2"))],
        mentors=[MentorPrefs("a1", ranking=("r1", "r2")), MentorPrefs("a2", ranking=("r1", "r2"))],
    )
    assert find_blocking_pairs(instance, {"r1": "a2", "r2": "a1"}) == [("r1", "a1")]
    assert find_blocking_pairs(instance, {"r1": None, "r2": None}) == [
        ("r1", "a1"),
        ("r1", "a2"),
        ("r2", "a1"),
        ("r2", "a2"),
    ]
    assert find_blocking_pairs(instance, {"r1": "a1", "r2": "a2"}) == []


def test_blocking_pair_checker_rejects_infeasible_assignments():
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2", never=frozenset({"a1"})), MenteePrefs("r3")],
        mentors=[MentorPrefs("a1", capacity=1)],
    )
    with pytest.raises(ValueError, match="over a capacity"):
        find_blocking_pairs(instance, {"r1": "a1", "r3": "a1"})
    with pytest.raises(ValueError, match="not an acceptable pair"):
        find_blocking_pairs(instance, {"r2": "a1"})
    with pytest.raises(InstanceError, match="unknown mentor"):
        find_blocking_pairs(instance, {"r1": "a9"})


def test_scores_are_made_integers_with_the_decimals_they_need():
    import numpy as np

    assert _integer_scores(np.array([0.83, 0.41]), 10).tolist() == [83, 41]
    assert _integer_scores(np.array([83.125, 50.0]), 10).tolist() == [83125, 50000]
    # Six decimals at most, even for a 40,000 × 16,000 cohort (56,002 nodes in the flow graph) ...
    assert _integer_scores(np.array([12.3456789, 100.0]), 56_002).tolist() == [12_345_679, 100_000_000]
    # ... and fewer when the scores are so spread out that the costs would not fit in the solver's int64.
    assert _integer_scores(np.array([0.123456, -1e8]), 56_002).tolist() == [12_346, -10_000_000_000_000]


def test_optimal_is_exact_when_the_scores_leave_no_room_for_the_tie_break():
    # A spread of 10**12 fills the cost budget, so the id tie-break is dropped; the optimum must not be.
    instance = Instance(
        mentees=[MenteePrefs("r1"), MenteePrefs("r2"), MenteePrefs("r3")],
        mentors=[MentorPrefs("a1"), MentorPrefs("a2")],
        scores={"r1": {"a1": 1e12, "a2": 3.0}, "r2": {"a1": 1e12 + 5}, "r3": {"a2": 2.0, "a1": 0.0}},
    )
    result = solve_optimal(instance)
    assert result.assignment == {"r1": "a2", "r2": "a1", "r3": None}
    assert result.stats.total_score == 1e12 + 8
