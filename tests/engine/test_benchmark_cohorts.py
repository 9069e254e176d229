"""The benchmark's cohorts and its checks, at sizes that take no time (nothing here is timed).

The same comparisons ``benchmarks/engine_bench.py`` asserts while it times: stable mode against the
PyPI ``matching`` package's HospitalResident (when ``make bench`` has put it in .venv/bench-packages)
and a plain deferred acceptance; optimal mode against an independent OR-Tools min-cost max-flow.
"""

import pytest

from benchmarks.engine_bench import (
    LIST_LENGTHS,
    Cohort,
    hospital_resident_solver,
    import_hospital_resident,
    ortools_graph,
    ortools_solve,
    reference_deferred_acceptance,
)
from matching.engine import solve_optimal, solve_stable


@pytest.fixture(scope="module")
def cohort():
    return Cohort(60, 25, seed=7)


def matched(result) -> dict:
    return {mentee: mentor for mentee, mentor in result.assignment.items() if mentor is not None}


def test_cohorts_are_seeded():
    assert Cohort(60, 25, seed=7).mentee_rankings == Cohort(60, 25, seed=7).mentee_rankings
    assert Cohort(60, 25, seed=7).mentor_rankings == Cohort(60, 25, seed=7).mentor_rankings
    assert Cohort(60, 25, seed=7).mentee_rankings != Cohort(60, 25, seed=8).mentee_rankings


def test_cohorts_have_partial_lists_mostly_within_a_specialty_cluster():
    cohort = Cohort(400, 160, seed=3)
    lengths = [len(ranking) for ranking in cohort.mentee_rankings.values()]
    assert min(lengths) >= LIST_LENGTHS[0] and max(lengths) <= LIST_LENGTHS[1]
    assert len(set(lengths)) > 10
    mentor_at = {mentor: j for j, mentor in enumerate(cohort.mentor_ids)}
    same = [
        cohort.mentor_cluster[mentor_at[mentor]] == cohort.mentee_cluster[i]
        for i, mentee in enumerate(cohort.mentee_ids)
        for mentor in cohort.mentee_rankings[mentee]
    ]
    assert sum(same) / len(same) > 0.6
    # Mentors rank some of the mentees who ranked them, never anyone else.
    applicants = {mentor: set() for mentor in cohort.mentor_ids}
    for mentee, ranking in cohort.mentee_rankings.items():
        for mentor in ranking:
            applicants[mentor].add(mentee)
    assert all(set(ranking) <= applicants[mentor] for mentor, ranking in cohort.mentor_rankings.items())
    assert sum(map(len, cohort.mentor_rankings.values())) < sum(map(len, applicants.values()))


def test_stable_mode_gives_the_hospital_resident_package_assignment(cohort):
    hospital_resident, why = import_hospital_resident()
    if hospital_resident is None:
        pytest.skip(why)
    expected = hospital_resident_solver(hospital_resident)(cohort.mutual_lists())
    assert matched(solve_stable(cohort.instance())) == expected


def test_importing_the_package_leaves_our_app_in_place():
    import matching.engine

    import_hospital_resident()
    import matching.engine as again

    assert again is matching.engine


def test_stable_mode_gives_the_plain_deferred_acceptance_assignment(cohort):
    expected = reference_deferred_acceptance(cohort.mentee_rankings, cohort.mentor_rankings, cohort.capacity)
    assert matched(solve_stable(cohort.instance())) == expected


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_optimal_mode_reaches_the_ortools_optimum(seed):
    cohort = Cohort(60, 25, seed=seed)
    result = solve_optimal(cohort.instance())
    expected_matched, expected_units = ortools_solve(ortools_graph(cohort))
    assert result.stats.matched == expected_matched
    assert sum(round(score * 1000) for score in result.scores.values()) == expected_units
