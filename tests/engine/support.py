"""Random small instances and brute-force solvers, written independently of the engine's own code."""

from __future__ import annotations

import itertools
import math

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from matching.engine import Exclusion, Instance, MenteePrefs, MentorPrefs

# Same examples on every run, few enough to finish in seconds.
engine_settings = settings(
    derandomize=True,
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _partial_ranking(draw, ids):
    if draw(st.booleans()):
        return None  # did not rank
    order = draw(st.permutations(ids)) if ids else []
    # Lists tend to be long, but empty and short ones occur too.
    return tuple(order[: max(draw(st.integers(0, len(order))), draw(st.integers(0, len(order))))])


def _some(draw, ids):
    if not ids or draw(st.integers(0, 5)):
        return frozenset()
    return frozenset(draw(st.sets(st.sampled_from(ids), max_size=2)))


@st.composite
def instances(draw, scores: str = "maybe"):
    """≤6 mentees, ≤4 mentors, capacities 0–3, random partial rankings, never-lists, exclusions and scores."""
    # Sizes drawn from lists, not ranges, so that empty sides are possible but not most of the examples.
    mentee_ids = [f"r{i}" for i in range(draw(st.sampled_from([5, 6, 4, 3, 2, 1, 0])))]
    mentor_ids = [f"a{j}" for j in range(draw(st.sampled_from([3, 4, 2, 1, 0])))]
    with_scores = scores == "always" or (scores == "maybe" and draw(st.booleans()))
    score_map = None
    if with_scores:
        score_map = {}
        for i in mentee_ids:
            row = {j: draw(st.integers(0, 20)) / 20 for j in mentor_ids if draw(st.integers(0, 4))}
            if row or draw(st.booleans()):
                score_map[i] = row
    mentees = [
        MenteePrefs(i, ranking=_partial_ranking(draw, mentor_ids), never=_some(draw, mentor_ids)) for i in mentee_ids
    ]
    mentors = [
        MentorPrefs(
            j,
            capacity=draw(st.integers(0, 3)),
            ranking=_partial_ranking(draw, mentee_ids),
            never=_some(draw, mentee_ids),
            accepting=draw(st.integers(0, 7)) > 0,
        )
        for j in mentor_ids
    ]
    exclusions = {}
    if mentee_ids and mentor_ids and draw(st.integers(0, 3)) == 0:
        for _ in range(draw(st.integers(1, 3))):
            pair = (draw(st.sampled_from(mentee_ids)), draw(st.sampled_from(mentor_ids)))
            exclusions[pair] = draw(
                st.sampled_from([Exclusion.CONFLICT_OF_INTEREST, Exclusion.EVALUATOR, Exclusion.ALREADY_PAIRED])
            )
    return Instance(mentees=mentees, mentors=mentors, scores=score_map, exclusions=exclusions)


def own_lists(instance: Instance):
    """Each side's acceptable list, best first, from the rules in the engine's documentation."""
    mentee_ids = sorted(p.id for p in instance.mentees)
    mentor_ids = sorted(p.id for p in instance.mentors)
    scores = instance.scores

    def score(i, j):
        return (scores or {}).get(i, {}).get(j)

    def allowed(i, j):
        return (i, j) not in instance.exclusions and (scores is None or score(i, j) is not None)

    mentee_lists = {}
    for p in instance.mentees:
        if p.ranking is not None:
            order = list(p.ranking)
        elif scores is not None:
            order = sorted((j for j in mentor_ids if score(p.id, j) is not None), key=lambda j: (-score(p.id, j), j))
        else:
            order = list(mentor_ids)
        mentee_lists[p.id] = [j for j in order if j not in p.never and allowed(p.id, j)]
    mentor_lists = {}
    for q in instance.mentors:
        if q.ranking is not None:
            order = list(q.ranking)
        elif scores is not None:
            order = sorted((i for i in mentee_ids if score(i, q.id) is not None), key=lambda i: (-score(i, q.id), i))
        else:
            order = list(mentee_ids)
        mentor_lists[q.id] = [i for i in order if i not in q.never and allowed(i, q.id)]
    return mentee_lists, mentor_lists


def capacities(instance: Instance) -> dict:
    return {q.id: (q.capacity if q.accepting else 0) for q in instance.mentors}


def mutual(instance: Instance) -> dict:
    """mentee -> mutually acceptable mentors with room, in the mentee's order."""
    mentee_lists, mentor_lists = own_lists(instance)
    cap = capacities(instance)
    return {i: [j for j in lst if cap[j] > 0 and i in mentor_lists[j]] for i, lst in mentee_lists.items()}


def feasible_assignments(instance: Instance):
    options = mutual(instance)
    cap = capacities(instance)
    mentee_ids = sorted(options)
    for choice in itertools.product(*[[None, *options[i]] for i in mentee_ids]):
        load = {}
        for j in choice:
            if j is not None:
                load[j] = load.get(j, 0) + 1
        if all(load[j] <= cap[j] for j in load):
            yield dict(zip(mentee_ids, choice, strict=True))


def is_stable(instance: Instance, assignment: dict) -> bool:
    mentee_lists, mentor_lists = own_lists(instance)
    cap = capacities(instance)
    options = mutual(instance)
    for i, lst in options.items():
        for j in lst:
            if j == assignment[i]:
                break
            held = [x for x, y in assignment.items() if y == j]
            if len(held) < cap[j] or any(mentor_lists[j].index(i) < mentor_lists[j].index(x) for x in held):
                return False
    return True


def brute_force_stable(instance: Instance) -> dict:
    """The stable matching every mentee weakly prefers to every other stable matching."""
    options = mutual(instance)
    stable = [a for a in feasible_assignments(instance) if is_stable(instance, a)]

    def place(i, j):
        return len(options[i]) if j is None else options[i].index(j)

    best = [a for a in stable if all(place(i, a[i]) <= place(i, b[i]) for b in stable for i in a)]
    assert len(best) == 1, "theory says the resident-optimal stable matching exists and is unique"
    return best[0]


def brute_force_optimum(instance: Instance) -> tuple[int, float]:
    """(most matched, highest total score among those)."""
    best = (0, 0.0)
    for a in feasible_assignments(instance):
        matched = [(i, j) for i, j in a.items() if j is not None]
        value = (len(matched), math.fsum(instance.scores[i][j] for i, j in matched))
        if value[0] > best[0] or (value[0] == best[0] and value[1] > best[1] + 1e-9):
            best = value
    return best
