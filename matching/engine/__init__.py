"""MentorMatch matching engine: plain records in, plain results out. Imports no Django.

Scoring:   score_cohort, recommend, explain_pair, Weights
One mentee, many mentors, fast: prepare_mentors -> PreparedMentors, recommend_prepared, scores_prepared
Matching:  Instance (+ MenteePrefs, MentorPrefs, build_instance), solve / solve_stable / solve_optimal
Checking:  find_blocking_pairs, count_blocking_pairs
Why-not:   why_not, why_not_unmatched
"""

from typing import Any

from .explain import why_not, why_not_unmatched
from .instance import Instance, InstanceError, MenteePrefs, MentorPrefs, build_instance
from .prepared import PreparedMentors, mentors_version, prepare_mentors, recommend_prepared, scores_prepared
from .records import Clock, Exclusion, Exclusions, MenteeRecord, MentorRecord, Vocabulary
from .result import MatchResult, MatchStats
from .scoring import COMPONENTS, CohortScores, ComponentScore, PairScore, Weights, explain_pair, recommend, score_cohort
from .stable import count_blocking_pairs, find_blocking_pairs, solve_stable

MODES = ("stable", "optimal")


def __getattr__(name: str) -> Any:
    # Optimal mode brings OR-Tools: imported on first use, so that stable mode's command line never pays for it.
    if name == "solve_optimal":
        from .optimal import solve_optimal

        return solve_optimal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def solve(instance: Instance, mode: str) -> MatchResult:
    """Solve in "stable" or "optimal" mode."""
    if mode == "stable":
        return solve_stable(instance)
    if mode == "optimal":
        from .optimal import solve_optimal

        return solve_optimal(instance)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


__all__ = [
    "COMPONENTS",
    "Clock",
    "MODES",
    "CohortScores",
    "ComponentScore",
    "Exclusion",
    "Exclusions",
    "Instance",
    "InstanceError",
    "MatchResult",
    "MatchStats",
    "MenteePrefs",
    "MenteeRecord",
    "MentorPrefs",
    "MentorRecord",
    "PairScore",
    "PreparedMentors",
    "Vocabulary",
    "Weights",
    "build_instance",
    "count_blocking_pairs",
    "explain_pair",
    "find_blocking_pairs",
    "mentors_version",
    "prepare_mentors",
    "recommend",
    "recommend_prepared",
    "score_cohort",
    "scores_prepared",
    "solve",
    "solve_optimal",
    "solve_stable",
    "why_not",
    "why_not_unmatched",
]
