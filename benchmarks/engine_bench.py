"""Matching engine benchmark: ``.venv/bin/python -m benchmarks.engine_bench [--large] [--repeat N]``.

Generates seeded synthetic cohorts (each mentee ranks 20 mentors, popular mentors more often; each
mentor ranks the mentees who ranked them, by score) and times, in this one run:

* stable mode against a plain pure-Python deferred acceptance written below (the reference), and,
  when the ``matching`` package is installed, its ``HospitalResident`` (optional, never required);
* optimal mode against OR-Tools' min-cost max-flow, when ortools is installed (requirements-dev.txt);
* cohort scoring (each mentee's top 20) against a straightforward dense numpy version.

Each solver's answer is checked against its reference as it is timed. Prints one table: size,
task, solver, seconds (median of the runs), ratio to the reference (below 1 = faster).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from importlib import metadata

import numpy as np

from matching.engine import (
    Instance,
    MenteePrefs,
    MenteeRecord,
    MentorPrefs,
    MentorRecord,
    Weights,
    recommend,
    score_cohort,
    solve_optimal,
)
from matching.engine.optimal import _integer_scores, optimal_assignment
from matching.engine.scoring import AVAILABILITY_TARGET_SLOTS, INTEREST_SATURATION, SUBSPECIALTY_SHARE, _grid
from matching.engine.stable import deferred_acceptance, solve_stable

LIST_LENGTH = 20
DEFAULT_SIZES = [(2_000, 800), (10_000, 4_000)]
LARGE_SIZE = (40_000, 16_000)


# ---------------------------------------------------------------------------------------------
# Synthetic cohorts


class Cohort:
    """Rankings, capacities and scores over the ranked pairs, as plain dicts keyed by id."""

    def __init__(self, mentees: int, mentors: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.mentee_ids = [f"r{i:05d}" for i in range(mentees)]
        self.mentor_ids = [f"a{j:05d}" for j in range(mentors)]
        popularity = 1.0 / np.arange(1, mentors + 1) ** 0.6
        popularity = rng.permutation(popularity / popularity.sum())
        quality = rng.random(mentors)
        draws = rng.choice(mentors, size=(mentees, 3 * LIST_LENGTH), p=popularity)
        self.capacity = dict(zip(self.mentor_ids, rng.integers(1, 5, size=mentors).tolist(), strict=True))
        self.mentee_rankings: dict[str, list[str]] = {}
        self.scores: dict[str, dict[str, float]] = {}
        applicants: dict[str, list[tuple[float, str]]] = {m: [] for m in self.mentor_ids}
        for i, mentee in enumerate(self.mentee_ids):
            chosen = list(dict.fromkeys(draws[i].tolist()))[:LIST_LENGTH]
            while len(chosen) < LIST_LENGTH:
                extra = int(rng.integers(mentors))
                if extra not in chosen:
                    chosen.append(extra)
            noise = rng.random(LIST_LENGTH)
            row = {}
            for j, u in zip(chosen, noise, strict=True):
                mentor = self.mentor_ids[j]
                row[mentor] = round(100 * (0.4 * quality[j] + 0.6 * u), 3)
                applicants[mentor].append((-row[mentor], mentee))
            self.scores[mentee] = row
            self.mentee_rankings[mentee] = [self.mentor_ids[j] for j in chosen]
        self.mentor_rankings = {m: [mentee for _, mentee in sorted(lst)] for m, lst in applicants.items()}

    def instance(self, with_scores: bool = True) -> Instance:
        return Instance(
            mentees=[MenteePrefs(i, ranking=tuple(self.mentee_rankings[i])) for i in self.mentee_ids],
            mentors=[
                MentorPrefs(m, capacity=self.capacity[m], ranking=tuple(self.mentor_rankings[m]))
                for m in self.mentor_ids
            ],
            scores=self.scores if with_scores else None,
        )


def synthetic_records(mentees: int, mentors: int, seed: int) -> tuple[list[MenteeRecord], list[MentorRecord]]:
    """Profiles over realistic vocabularies: 30 specialties, 100 subspecialties, 15 goals, 60 interests."""
    rng = random.Random(seed)

    def windows():
        return [
            (rng.randrange(7), start, start + rng.choice([60, 90, 120, 180]))
            for start in (rng.randrange(6, 21) * 60 for _ in range(rng.randrange(0, 5)))
        ]

    home = [rng.randrange(30) for _ in range(4)]  # most residents are in a few programs' specialties
    mentee_records = [
        MenteeRecord(
            f"r{i:05d}",
            specialty_id=rng.choice(home) if rng.random() < 0.8 else rng.randrange(30),
            subspecialty_interest_ids=rng.sample(range(100), rng.randrange(0, 3)),
            goal_ids=rng.sample(range(15), rng.randrange(1, 5)),
            interest_ids=rng.sample(range(60), rng.randrange(0, 6)),
            stage_order=rng.randrange(0, 9),
            language_ids=rng.sample(range(8), rng.randrange(1, 3)),
            format_ids=rng.sample(range(3), rng.randrange(1, 4)),
            weekly_windows=windows(),
        )
        for i in range(mentees)
    ]
    mentor_records = [
        MentorRecord(
            f"a{j:05d}",
            specialty_id=rng.choice(home) if rng.random() < 0.6 else rng.randrange(30),
            subspecialty_id=rng.choice([None, rng.randrange(100)]),
            expertise_goal_ids=rng.sample(range(15), rng.randrange(1, 6)),
            interest_ids=rng.sample(range(60), rng.randrange(0, 6)),
            stage_order=rng.randrange(3, 14),
            language_ids=rng.sample(range(8), rng.randrange(1, 3)),
            format_ids=rng.sample(range(3), rng.randrange(1, 4)),
            weekly_windows=windows(),
            capacity=rng.randrange(1, 5),
        )
        for j in range(mentors)
    ]
    return mentee_records, mentor_records


# ---------------------------------------------------------------------------------------------
# References


def reference_deferred_acceptance(
    mentee_rankings: dict[str, list[str]], mentor_rankings: dict[str, list[str]], capacity: dict[str, int]
) -> dict[str, str]:
    """Plain, straightforward mentee-proposing deferred acceptance on id-keyed dicts."""
    rank = {m: {r: k for k, r in enumerate(lst)} for m, lst in mentor_rankings.items()}
    next_choice = dict.fromkeys(mentee_rankings, 0)
    held: dict[str, list[str]] = {m: [] for m in mentor_rankings}
    match: dict[str, str] = {}
    free = list(mentee_rankings)
    while free:
        r = free.pop()
        prefs = mentee_rankings[r]
        while next_choice[r] < len(prefs):
            m = prefs[next_choice[r]]
            next_choice[r] += 1
            if r not in rank[m] or capacity[m] == 0:
                continue
            held[m].append(r)
            match[r] = m
            if len(held[m]) <= capacity[m]:
                break
            worst = max(held[m], key=rank[m].__getitem__)
            held[m].remove(worst)
            del match[worst]
            if worst != r:
                free.append(worst)
                break
    return match


def _import_matching_package():
    """``matching.games.HospitalResident`` from the PyPI package, which shares its name with our Django app.

    The package imports itself absolutely (``from matching import ...``), so its modules are loaded
    while ours are set aside, then ours are put back; its classes keep working from the references
    they already hold.
    """
    try:
        distribution = metadata.distribution("matching")
    except metadata.PackageNotFoundError:
        return None
    ours = {name: module for name, module in sys.modules.items() if name == "matching" or name.startswith("matching.")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(distribution.locate_file("")))
    try:
        return importlib.import_module("matching.games").HospitalResident
    except Exception:  # an incompatible version: report it as not available
        return None
    finally:
        sys.path.pop(0)
        for name in [n for n in sys.modules if n == "matching" or n.startswith("matching.")]:
            sys.modules[f"_pypi_{name}"] = sys.modules.pop(name)
        sys.modules.update(ours)


def matching_package_solver() -> Callable | None:
    """The `matching` package's documented HospitalResident API, if it is installed (it is optional)."""
    hospital_resident = _import_matching_package()
    if hospital_resident is None:
        return None

    def solve(cohort: Cohort) -> dict[str, str]:
        game = hospital_resident.create_from_dictionaries(
            cohort.mentee_rankings, cohort.mentor_rankings, cohort.capacity
        )
        found = game.solve(optimal="resident")
        return {r.name: h.name for h, residents in found.items() for r in residents}

    def in_big_thread(cohort: Cohort) -> dict[str, str]:
        # Its deep copy recurses through the players above a few hundred of them (upstream issue #139).
        box: dict = {}
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        threading.stack_size(1 << 30)
        try:
            thread = threading.Thread(target=lambda: box.update(result=solve(cohort)))
            thread.start()
            thread.join()
        finally:
            threading.stack_size(0)
            sys.setrecursionlimit(limit)
        return box["result"]

    return in_big_thread


def ortools_solver() -> Callable | None:
    try:
        from ortools.graph.python import min_cost_flow
    except ImportError:
        return None

    def solve(cohort: Cohort) -> tuple[int, float]:
        """Max flow at min cost on the graph of mutually ranked pairs; returns (matched, total score)."""
        mentor_at = {m: j for j, m in enumerate(cohort.mentor_ids)}
        n, m = len(cohort.mentee_ids), len(cohort.mentor_ids)
        rank = {mm: set(lst) for mm, lst in cohort.mentor_rankings.items()}
        tails, heads, values = [], [], []
        for i, r in enumerate(cohort.mentee_ids):
            for mm in cohort.mentee_rankings[r]:
                if r in rank[mm]:
                    tails.append(i)
                    heads.append(n + mentor_at[mm])
                    values.append(cohort.scores[r][mm])
        q = _integer_scores(np.array(values), n)
        source, sink = n + m, n + m + 1
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.concatenate([np.full(n, source), tails, n + np.arange(m)]),
            np.concatenate([np.arange(n), heads, np.full(m, sink)]),
            np.concatenate(
                [np.ones(n, np.int64), np.ones(len(tails), np.int64), [cohort.capacity[x] for x in cohort.mentor_ids]]
            ),
            np.concatenate([np.zeros(n, np.int64), q.max() - q, np.zeros(m, np.int64)]),
        )
        flow.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
        if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
            raise RuntimeError("OR-Tools did not find an optimum")
        matched = flow.maximum_flow()
        scale = float(q.max()) / max(values) if max(values) else 1.0
        total = (matched * int(q.max()) - flow.optimal_cost()) / scale
        return matched, total

    return solve


def career_fit_array(ahead: np.ndarray) -> np.ndarray:
    return np.select(
        [ahead <= 0, ahead == 1, ahead <= 5], [0.0, 0.6, 1.0], default=np.maximum(0.5, 1.0 - 0.1 * (ahead - 5))
    )


def reference_scoring(mentees: list[MenteeRecord], mentors: list[MentorRecord], k: int) -> np.ndarray:
    """Straightforward numpy: one dense float64 matrix per component, then a full sort per row."""
    w = Weights().normalised()

    def hot(sets, size):
        out = np.zeros((len(sets), size))
        for row, s in enumerate(sets):
            out[row, list(s)] = 1
        return out

    spec_i = np.array([p.specialty_id for p in mentees])
    spec_j = np.array([p.specialty_id for p in mentors])
    same = (spec_i[:, None] == spec_j[None, :]).astype(float)
    sub = (
        hot([p.subspecialty_interest_ids for p in mentees], 100)
        @ hot([[p.subspecialty_id] if p.subspecialty_id is not None else [] for p in mentors], 100).T
    )
    wants = np.array([bool(p.subspecialty_interest_ids) for p in mentees])[:, None]
    total = w["specialty"] * np.where(wants, (1 - SUBSPECIALTY_SHARE) * same + SUBSPECIALTY_SHARE * sub, same)
    del same, sub
    goals = np.array([len(p.goal_ids) for p in mentees])[:, None]
    total += (
        w["goals"]
        * (hot([p.goal_ids for p in mentees], 15) @ hot([p.expertise_goal_ids for p in mentors], 15).T)
        / np.maximum(goals, 1)
    )
    saturation = np.minimum([len(p.interest_ids) for p in mentees], INTEREST_SATURATION)[:, None]
    shared = hot([p.interest_ids for p in mentees], 60) @ hot([p.interest_ids for p in mentors], 60).T
    total += w["interests"] * np.minimum(shared, saturation) / np.maximum(saturation, 1)
    del shared
    ahead = np.array([p.stage_order for p in mentors])[None, :] - np.array([p.stage_order for p in mentees])[:, None]
    total += w["career"] * career_fit_array(ahead)
    del ahead
    overlap = _grid(mentees).astype(float) @ _grid(mentors).astype(float).T
    total += w["availability"] * np.minimum(overlap, AVAILABILITY_TARGET_SLOTS) / AVAILABILITY_TARGET_SLOTS
    del overlap
    total += w["language"] * (
        (hot([p.language_ids for p in mentees], 8) @ hot([p.language_ids for p in mentors], 8).T) > 0
    )
    total += w["meeting_format"] * (
        (hot([p.format_ids for p in mentees], 3) @ hot([p.format_ids for p in mentors], 3).T) > 0
    )
    total *= 100
    order = np.argsort(-total, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(total, order, axis=1)


# ---------------------------------------------------------------------------------------------
# Timing


def timed(run: Callable, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_solvers(
    cohort: Cohort, repeat: int, record: Callable, hospital_resident, min_cost_flow, hospital_resident_up_to: int
) -> None:
    n = len(cohort.mentee_ids)
    ref_seconds, expected = timed(
        lambda: reference_deferred_acceptance(cohort.mentee_rankings, cohort.mentor_rankings, cohort.capacity), repeat
    )
    record("stable", "reference: pure-Python deferred acceptance", ref_seconds, ref_seconds, "pure-Python DA")
    seconds, result = timed(lambda: solve_stable(cohort.instance()), repeat)
    assert {k: v for k, v in result.assignment.items() if v} == expected, "stable result differs from the reference"
    assert result.stats.blocking_pairs == 0
    record("stable", "ours: solve_stable (validate+prepare+solve+stats)", seconds, ref_seconds, "pure-Python DA")
    prepared = cohort.instance().prepared
    seconds, _ = timed(lambda: deferred_acceptance(prepared), repeat)
    record("stable", "ours: deferred_acceptance on prepared lists", seconds, ref_seconds, "pure-Python DA")
    if hospital_resident is not None and n <= hospital_resident_up_to:
        seconds, found = timed(lambda: hospital_resident(cohort), 1)
        assert found == expected, "HospitalResident differs from the reference"
        record("stable", "matching.games.HospitalResident (1 run)", seconds, ref_seconds, "pure-Python DA")

    or_seconds = None
    if min_cost_flow is not None:
        or_seconds, (or_matched, or_total) = timed(lambda: min_cost_flow(cohort), repeat)
        record("optimal", "reference: OR-Tools min-cost max-flow", or_seconds, or_seconds, "OR-Tools")
    seconds, result = timed(lambda: solve_optimal(cohort.instance()), repeat)
    if min_cost_flow is not None:
        assert result.stats.matched == or_matched, "optimal matched count differs from OR-Tools"
        assert math.isclose(result.stats.total_score, or_total, rel_tol=1e-9), "optimal total differs from OR-Tools"
    record("optimal", "ours: solve_optimal (validate+prepare+solve+stats)", seconds, or_seconds, "OR-Tools")
    seconds, _ = timed(lambda: optimal_assignment(prepared), repeat)
    record("optimal", "ours: optimal_assignment on prepared lists", seconds, or_seconds, "OR-Tools")


def bench_scoring(mentees: list, mentors: list, repeat: int, record: Callable, notes: list[str]) -> None:
    n, m = len(mentees), len(mentors)
    ref_seconds = None
    if n * m <= 10_000 * 4_000:
        ref_seconds, ref_top = timed(lambda: reference_scoring(mentees, mentors, LIST_LENGTH), repeat)
        record("scoring", "reference: straightforward dense numpy", ref_seconds, ref_seconds, "dense numpy")
    else:
        notes.append(
            f"{n:,}×{m:,}: no dense numpy reference (each float64 matrix would take {n * m * 8 / 2**30:.1f} GiB)."
        )
    seconds, top = timed(lambda: score_cohort(mentees, mentors, top_k=LIST_LENGTH), repeat)
    if ref_seconds is not None:
        # The same best scores, up to our 0.001-point resolution.
        assert np.allclose(top.top_units / 1000, ref_top, atol=0.01), "top-k scores differ from the reference"
    record("scoring", f"ours: score_cohort, top {LIST_LENGTH} per mentee", seconds, ref_seconds, "dense numpy")
    seconds, _ = timed(lambda: [recommend(p, mentors, n=10) for p in mentees[:10]], repeat)
    record("recommend", f"ours: recommend, top 10 of {m:,} mentors", seconds / 10, None, "—")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help=f"also run {LARGE_SIZE[0]:,}×{LARGE_SIZE[1]:,}")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement; the median is reported (default 3)"
    )
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    sizes = DEFAULT_SIZES + ([LARGE_SIZE] if args.large else [])
    hospital_resident = matching_package_solver()
    min_cost_flow = ortools_solver()
    rows: list[tuple] = []
    notes: list[str] = []
    current_size = [""]

    def record(task, solver, seconds, reference_seconds, reference):
        size = current_size[0]
        ratio = f"{seconds / reference_seconds:.2f}" if reference_seconds else "—"
        rows.append((size, task, solver, f"{seconds:.3f}", ratio, reference))
        print(f"  {task:<10} {solver:<44} {seconds:8.3f} s", file=sys.stderr, flush=True)

    for n, m in sizes:
        repeat = 1 if n >= LARGE_SIZE[0] else args.repeat
        current_size[0] = f"{n:,}×{m:,}"
        print(f"{n:,}×{m:,}: generating…", file=sys.stderr, flush=True)
        # HospitalResident takes about a minute at 10,000×4,000: only with --large.
        bench_solvers(
            Cohort(n, m, args.seed), repeat, record, hospital_resident, min_cost_flow, 10_000 if args.large else 2_000
        )
        gc.collect()
        bench_scoring(*synthetic_records(n, m, args.seed), repeat, record, notes)
        gc.collect()

    if hospital_resident is None:
        notes.append("The `matching` package is not installed: its HospitalResident was not measured (optional).")
    if min_cost_flow is None:
        notes.append("ortools is not installed: optimal mode has no reference (pip install -r requirements-dev.txt).")

    header = ("size", "task", "solver", "seconds", "ratio", "reference")
    widths = [max(len(str(row[k])) for row in [header, *rows]) for k in range(len(header))]
    print(
        f"seconds: median of {args.repeat} runs{f' (1 run at {LARGE_SIZE[0]:,}×{LARGE_SIZE[1]:,})' if args.large else ''}; "
        "ratio: seconds / the reference's seconds in this run (below 1 = faster)"
    )
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|-" + "-|-".join("-" * w for w in widths) + "-|")
    for row in rows:
        print("| " + " | ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) + " |")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
