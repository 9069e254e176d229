"""MentorMatch matching engine: plain records in, plain results out. Imports no Django.

Scoring:   score_cohort, recommend, explain_pair, Weights
One mentee, many mentors, fast: prepare_mentors -> PreparedMentors, recommend_prepared, scores_prepared
Matching:  Instance (+ MenteePrefs, MentorPrefs, build_instance), solve / solve_stable / solve_optimal
Checking:  find_blocking_pairs, count_blocking_pairs
Why-not:   why_not, why_not_unmatched
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .instance import Instance, InstanceError, MenteePrefs, MentorPrefs, build_instance
from .records import Clock, Exclusion, Exclusions, MenteeRecord, MentorRecord, Vocabulary
from .result import MatchResult, MatchStats
from .stable import count_blocking_pairs, find_blocking_pairs, solve_stable

if TYPE_CHECKING:
    from .explain import why_not, why_not_unmatched
    from .optimal import solve_optimal
    from .prepared import PreparedMentors, mentors_version, prepare_mentors, recommend_prepared, scores_prepared
    from .scoring import (
        COMPONENTS,
        CohortScores,
        ComponentScore,
        PairScore,
        Weights,
        explain_pair,
        recommend,
        score_cohort,
    )

MODES = ("stable", "optimal")

# Loaded on first use: the stable command line needs none of them (scoring, prepared mentors and why-not cost
# it 10 ms of imports), and optimal mode brings OR-Tools.
_LAZY = {
    "why_not": "explain",
    "why_not_unmatched": "explain",
    "solve_optimal": "optimal",
    **dict.fromkeys(
        ("PreparedMentors", "mentors_version", "prepare_mentors", "recommend_prepared", "scores_prepared"), "prepared"
    ),
    **dict.fromkeys(
        (
            "COMPONENTS",
            "CohortScores",
            "ComponentScore",
            "PairScore",
            "Weights",
            "explain_pair",
            "recommend",
            "score_cohort",
        ),
        "scoring",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # once loaded, an attribute like the others
    return value


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
