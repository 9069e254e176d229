"""Matching engine benchmark: ``.venv/bin/python -m benchmarks.engine_bench [--large] [--repeat N]``.

Seeded synthetic cohorts at 200×80, 2,000×800 and 10,000×4,000 (and 40,000×16,000, the national
Match's scale, with ``--large``), each timed in this one run against a reference:

* stable mode against the PyPI ``matching`` package's ``HospitalResident`` (resident-optimal), the
  assignments asserted identical; it is installed apart from the virtual environment, in
  ``.venv/bench-packages`` (``make bench`` puts it there), because its import name is our app's.
  A plain pure-Python deferred acceptance written below checks every size, 40,000×16,000 included;
* optimal mode against OR-Tools' min-cost max-flow on the same lists, written independently below:
  the number matched and the total score asserted equal;
* cohort scoring against a straightforward dense numpy version; at 40,000×16,000 (best 50 per mentee),
  each in a process of its own for its peak RSS, against ``score_cohort`` as it was before issue 16
  (loaded from git);
* ``recommend_prepared`` (mentors prepared once) against ``recommend`` on the records, one mentee
  against 4,000 and 16,000 mentors, the answers asserted equal;
* the stable command line as a whole process (start-up, JSON in and out) against HospitalResident at
  10,000×4,000 and the plain deferred acceptance at 40,000×16,000.

Prints a Markdown table: seconds are medians of the runs; each row says how ours compares with its
reference in the same run, and which target applies.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from benchmarks.plain_da import reference_deferred_acceptance
from matching.engine import (
    Instance,
    MenteePrefs,
    MenteeRecord,
    MentorPrefs,
    MentorRecord,
    Weights,
    prepare_mentors,
    recommend,
    recommend_prepared,
    score_cohort,
    solve_optimal,
)
from matching.engine.optimal import optimal_assignment
from matching.engine.scoring import AVAILABILITY_TARGET_SLOTS, INTEREST_SATURATION, SUBSPECIALTY_SHARE, _grid
from matching.engine.stable import deferred_acceptance, solve_stable

ROOT = Path(__file__).resolve().parents[1]
BENCH_PACKAGES = ROOT / ".venv" / "bench-packages"

DEFAULT_SIZES = [(200, 80), (2_000, 800), (10_000, 4_000)]
LARGE_SIZE = (40_000, 16_000)
LIST_LENGTHS = (10, 50)  # each mentee ranks between 10 and 50 mentors
HOSPITAL_RESIDENT_UP_TO = 10_000  # mentees; it takes about a minute at 10,000×4,000 and grows faster than linearly

# The targets.
STABLE_SPEEDUP = 20  # × faster than HospitalResident, at 2,000×800 and 10,000×4,000
STABLE_SPEEDUP_SIZES = {(2_000, 800), (10_000, 4_000)}
STABLE_SECONDS = 2.0  # at 40,000×16,000
OPTIMAL_RATIO = 2.0  # × OR-Tools' time, at most
SCORING_SECONDS = 1.0  # at 10,000×4,000
# Issue 16.
RECOMMEND_MS = 5.0  # one mentee against 16,000 prepared mentors
RECOMMEND_MENTORS = (4_000, 16_000)
NATIONAL_SCORING_SECONDS = 3.0  # 40,000×16,000, best 50 per mentee
NATIONAL_SCORING_RSS_GB = 2.0
CLI_VS_DA = (
    2.0  # the stable command line, a whole process, × faster than the plain deferred acceptance at 40,000×16,000
)
CLI_VS_HOSPITAL_RESIDENT = 100.0  # × faster than HospitalResident at 10,000×4,000


# ---------------------------------------------------------------------------------------------
# Synthetic cohorts


class Cohort:
    """Rankings, capacities and scores as plain dicts keyed by id, with specialty clusters.

    Mentors and mentees belong to specialty clusters of uneven sizes (a few big specialties, many small
    ones). Each mentee ranks 10–50 mentors, about 80 % from their own cluster, popular mentors more
    often, in the order of their score plus noise. Each mentor ranks the mentees who ranked them, by
    their own view of the mentee, and leaves about 10 % of them off as unacceptable. Capacities 1–4.
    Scores (0–100, three decimals) exist for the ranked pairs.
    """

    def __init__(self, mentees: int, mentors: int, seed: int, in_cluster: float = 0.8, declined: float = 0.1) -> None:
        rng = np.random.default_rng(seed)
        n, m = mentees, mentors
        self.mentee_ids = [f"r{i:05d}" for i in range(n)]
        self.mentor_ids = [f"a{j:05d}" for j in range(m)]
        clusters = min(24, max(4, m // 50))
        share = 1.0 / np.arange(1, clusters + 1) ** 0.8
        share /= share.sum()
        self.mentor_cluster = rng.choice(clusters, size=m, p=share)
        self.mentee_cluster = rng.choice(clusters, size=n, p=share)
        log_popularity = rng.normal(0.0, 0.8, size=m)
        quality, merit = rng.random(m), rng.random(n)
        capacity = rng.integers(1, 5, size=m)
        lengths = np.minimum(rng.integers(LIST_LENGTHS[0], LIST_LENGTHS[1] + 1, size=n), m)
        members = [np.flatnonzero(self.mentor_cluster == c) for c in range(clusters)]

        # Own-cluster mentors: a weighted sample without replacement (Gumbel top-k), cluster by cluster.
        own = np.minimum(rng.binomial(lengths, in_cluster), [members[c].size for c in self.mentee_cluster])
        chosen: list[list[int]] = [[] for _ in range(n)]
        for c in range(clusters):
            rows, cols = np.flatnonzero(self.mentee_cluster == c), members[c]
            for lo in range(0, rows.size, 1024):
                block = rows[lo : lo + 1024]
                keys = log_popularity[cols] + rng.gumbel(size=(block.size, cols.size))
                best = np.argsort(-keys, axis=1)[:, : LIST_LENGTHS[1]]
                for row, i in enumerate(block.tolist()):
                    chosen[i] = cols[best[row, : own[i]]].tolist()
        # The rest from other clusters, popular mentors more often.
        popularity = np.exp(log_popularity)
        cdf = np.cumsum(popularity) / popularity.sum()
        for i in range(n):
            need = int(lengths[i]) - len(chosen[i])
            have = set(chosen[i])
            while need > 0 and len(have) < m:
                for j in np.searchsorted(cdf, rng.random(2 * need + 4), side="right").tolist():
                    if j < m and self.mentor_cluster[j] != self.mentee_cluster[i] and j not in have:
                        have.add(j)
                        chosen[i].append(j)
                        need -= 1
                        if not need:
                            break
                if len(have) >= m or not (self.mentor_cluster != self.mentee_cluster[i]).any():
                    break

        sizes = [len(x) for x in chosen]
        rows = np.repeat(np.arange(n), sizes)
        cols = np.array([j for x in chosen for j in x], dtype=np.int64)
        fit = rng.random(rows.size)
        same = self.mentee_cluster[rows] == self.mentor_cluster[cols]
        score = np.round(100 * (0.3 * quality[cols] + 0.25 * same + 0.45 * fit), 3)
        mentee_view = score + rng.normal(0, 8, rows.size)
        mentor_view = 100 * (0.5 * merit[rows] + 0.5 * fit) + rng.normal(0, 8, rows.size)
        acceptable = rng.random(rows.size) >= declined

        by_mentee = np.lexsort((-mentee_view, rows))
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        ranked, values = cols[by_mentee].tolist(), score[by_mentee].tolist()
        self.mentee_rankings: dict[str, list[str]] = {}
        self.scores: dict[str, dict[str, float]] = {}
        for i, mentee in enumerate(self.mentee_ids):
            ids = [self.mentor_ids[j] for j in ranked[bounds[i] : bounds[i + 1]]]
            self.mentee_rankings[mentee] = ids
            self.scores[mentee] = dict(zip(ids, values[bounds[i] : bounds[i + 1]], strict=True))
        by_mentor = np.lexsort((-mentor_view, cols))
        by_mentor = by_mentor[acceptable[by_mentor]]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(cols[by_mentor], minlength=m))]).tolist()
        applicants = rows[by_mentor].tolist()
        self.mentor_rankings = {
            mentor: [self.mentee_ids[i] for i in applicants[bounds[j] : bounds[j + 1]]]
            for j, mentor in enumerate(self.mentor_ids)
        }
        self.capacity = dict(zip(self.mentor_ids, capacity.tolist(), strict=True))

    def instance(self) -> Instance:
        return Instance(
            mentees=[MenteePrefs(i, ranking=tuple(self.mentee_rankings[i])) for i in self.mentee_ids],
            mentors=[
                MentorPrefs(m, capacity=self.capacity[m], ranking=tuple(self.mentor_rankings[m]))
                for m in self.mentor_ids
            ],
            scores=self.scores,
        )

    def mutual_lists(self) -> tuple[dict, dict, dict]:
        """The lists as ``HospitalResident`` requires them: a hospital ranks all and only the residents
        who ranked it, nobody has an empty list."""
        accepts = {m: set(lst) for m, lst in self.mentor_rankings.items()}
        residents = {r: [m for m in lst if r in accepts[m]] for r, lst in self.mentee_rankings.items()}
        residents = {r: lst for r, lst in residents.items() if lst}
        hospitals = {m: lst for m, lst in self.mentor_rankings.items() if lst}
        return residents, hospitals, {m: self.capacity[m] for m in hospitals}


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


def _is_ours(name: str) -> bool:
    return name == "matching" or name.startswith("matching.")


def import_hospital_resident(packages: Path = BENCH_PACKAGES) -> tuple[type | None, str]:
    """``matching.games.HospitalResident`` from the PyPI package in ``packages``, and its version.

    The package's import name is our Django app's, and it imports itself absolutely (``from matching
    import ...``): its modules are loaded while ours are set aside, then kept under other names
    (``_pypi_matching...``) and ours put back. Its classes keep working from the references they hold.
    Returns (None, why) when it is not there.
    """
    if not (packages / "matching" / "games").is_dir():
        return None, f"the `matching` package is not in {packages} (make bench installs it)"
    found = list(metadata.distributions(name="matching", path=[str(packages)]))
    version = found[0].version if found else "?"
    ours = {name: module for name, module in sys.modules.items() if _is_ours(name)}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(packages))
    try:
        with warnings.catch_warnings():  # it sets warnings to "always" for the whole process on import
            return importlib.import_module("matching.games").HospitalResident, version
    except Exception as exc:  # an incompatible version: report it as not available
        return None, f"the `matching` package in {packages} does not load: {exc!r}"
    finally:
        sys.path.remove(str(packages))
        for name in [n for n in sys.modules if _is_ours(n)]:
            sys.modules[f"_pypi_{name}"] = sys.modules.pop(name)
        sys.modules.update(ours)


def hospital_resident_solver(hospital_resident: type) -> Callable[[tuple], dict[str, str]]:
    """Its documented API on (resident lists, hospital lists, capacities): {resident: hospital}."""

    def solve(lists: tuple) -> dict[str, str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            game = hospital_resident.create_from_dictionaries(*lists)
            found = game.solve(optimal="resident")
        return {r.name: h.name for h, residents in found.items() for r in residents}

    def in_big_thread(lists: tuple) -> dict[str, str]:
        # Its deep copy recurses through the players above a few hundred of them (upstream issue #139).
        box: dict = {}
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        threading.stack_size(1 << 30)
        try:
            thread = threading.Thread(target=lambda: box.update(result=solve(lists)))
            thread.start()
            thread.join()
        finally:
            threading.stack_size(0)
            sys.setrecursionlimit(limit)
        return box["result"]

    return in_big_thread


def ortools_graph(cohort: Cohort) -> tuple[np.ndarray, ...]:
    """Arcs (tails, heads, capacities, costs) for max flow at min cost over the mutually ranked pairs.

    Costs are (best score − score) in thousandths of a point: the cohort's scores have three decimals.
    """
    n, m = len(cohort.mentee_ids), len(cohort.mentor_ids)
    mentor_at = {x: j for j, x in enumerate(cohort.mentor_ids)}
    accepts = {x: set(lst) for x, lst in cohort.mentor_rankings.items()}
    tails, heads, units = [], [], []
    for i, r in enumerate(cohort.mentee_ids):
        for x in cohort.mentee_rankings[r]:
            if r in accepts[x] and cohort.capacity[x] > 0:
                tails.append(i)
                heads.append(n + mentor_at[x])
                units.append(round(cohort.scores[r][x] * 1000))
    units_a = np.array(units, dtype=np.int64)
    best = int(units_a.max(initial=0))
    source, sink = n + m, n + m + 1
    return (
        np.concatenate([np.full(n, source), tails, n + np.arange(m)]),
        np.concatenate([np.arange(n), heads, np.full(m, sink)]),
        np.concatenate([np.ones(n + len(tails), np.int64), [cohort.capacity[x] for x in cohort.mentor_ids]]),
        np.concatenate([np.zeros(n, np.int64), best - units_a, np.zeros(m, np.int64)]),
        np.array([source, sink, n, best]),
    )


def ortools_solve(graph: tuple[np.ndarray, ...]) -> tuple[int, int]:
    """(mentees matched, total score in thousandths of a point)."""
    from ortools.graph.python import min_cost_flow

    tails, heads, capacities, costs, (source, sink, n, best) = graph
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError("OR-Tools did not find an optimum")
    matched = flow.maximum_flow()
    return matched, matched * int(best) - flow.optimal_cost()


def career_fit_array(ahead: np.ndarray) -> np.ndarray:
    return np.select(
        [ahead <= 0, ahead == 1, ahead <= 5], [0.0, 0.6, 1.0], default=np.maximum(0.5, 1.0 - 0.1 * (ahead - 5))
    )


def reference_scoring(mentees: list[MenteeRecord], mentors: list[MentorRecord]) -> np.ndarray:
    """Straightforward numpy: one dense float64 matrix per component, in points."""
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
    return total


# ---------------------------------------------------------------------------------------------
# Timing


def timed(*runs: Callable, repeat: int) -> list[tuple[float, object]]:
    """(median seconds, last result) of each run. The runs take turns, so that ours and its reference
    meet the same noise from whatever else the machine is doing; quick ones are repeated for at least
    half a second (up to 25 times), so that a hiccup of a few milliseconds does not decide a ratio."""
    times: list[list[float]] = [[] for _ in runs]
    results: list[object] = [None] * len(runs)
    rounds, started = 0, time.perf_counter()
    while rounds < repeat or (rounds < 25 and time.perf_counter() - started < 0.5):
        rounds += 1
        for k, run in enumerate(runs):
            gc.collect()
            start = time.perf_counter()
            results[k] = run()
            times[k].append(time.perf_counter() - start)
    return [(statistics.median(t), result) for t, result in zip(times, results, strict=True)]


@dataclass
class Row:
    size: str
    task: str
    ours: str
    seconds: float
    reference: str = "—"
    reference_seconds: float | None = None
    comparison: str = "—"
    target: str = "—"
    met: str = "—"
    rss: str = "—"  # peak RSS, for the rows run as a process of their own


def faster(ours: float, reference: float) -> str:
    return f"{reference / ours:,.0f}× faster" if reference >= 10 * ours else f"{reference / ours:.1f}× faster"


def its_time(ours: float, reference: float) -> str:
    return f"{ours / reference:.2f}× its time"


def yes_no(ok: bool) -> str:
    return "yes" if ok else "**no**"


class Bench:
    def __init__(self, repeat: int, seed: int, hospital_resident: Callable | None, package: str) -> None:
        self.repeat, self.seed = repeat, seed
        self.hospital_resident, self.package = hospital_resident, package
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        reference = f" | {row.reference}: {row.reference_seconds:.3f} s" if row.reference_seconds is not None else ""
        print(f"  {row.task:<9} {row.ours:<48} {row.seconds:8.3f} s{reference}", file=sys.stderr, flush=True)

    def solvers(self, n: int, m: int, repeat: int) -> None:
        size = f"{n:,}×{m:,}"
        print(f"{size}: generating…", file=sys.stderr, flush=True)
        cohort = Cohort(n, m, self.seed)

        def ours_stable():
            return solve_stable(cohort.instance())

        def plain():
            return reference_deferred_acceptance(cohort.mentee_rankings, cohort.mentor_rankings, cohort.capacity)

        (seconds, result), (da_seconds, expected) = timed(ours_stable, plain, repeat=repeat)
        ours = {k: v for k, v in result.assignment.items() if v is not None}
        assert ours == expected, "stable: our assignment differs from the plain deferred acceptance"
        assert result.stats.blocking_pairs == 0
        label = "solve_stable (validate, prepare, solve, stats)"
        if self.hospital_resident is not None and n <= HOSPITAL_RESIDENT_UP_TO:
            lists = cohort.mutual_lists()
            with_cli = (n, m) == (10_000, 4_000)
            with instance_file(cohort) as (path, megabytes):
                # At 10,000×4,000 the command line takes turns with both (a minute of HospitalResident
                # a round): its ratio to HospitalResident is then measured under the same load.
                cli = lambda: process_output("matching.engine", "solve", "--mode", "stable", str(path))  # noqa: E731
                turns = timed(
                    ours_stable,
                    lambda: self.hospital_resident(lists),
                    *([cli] if with_cli else []),
                    repeat=repeat if n <= 2_000 else 2,
                )
            (seconds, _), (hr_seconds, found) = turns[:2]
            assert found == ours, "stable: HospitalResident's assignment differs from ours"
            target = (n, m) in STABLE_SPEEDUP_SIZES
            self.add(
                Row(
                    size,
                    "stable",
                    label,
                    seconds,
                    reference=f"{self.package} HospitalResident",
                    reference_seconds=hr_seconds,
                    comparison=faster(seconds, hr_seconds),
                    target=f"≥ {STABLE_SPEEDUP}× faster" if target else "—",
                    met=yes_no(hr_seconds >= STABLE_SPEEDUP * seconds) if target else "—",
                )
            )
            if with_cli:
                cli_seconds, (rss, output) = turns[2]
                self.add_command_line(
                    n,
                    m,
                    megabytes,
                    cli_seconds,
                    rss,
                    output,
                    ours,
                    reference=f"{self.package} HospitalResident (in-process, taking turns with it)",
                    reference_seconds=hr_seconds,
                    target=CLI_VS_HOSPITAL_RESIDENT,
                )
        else:
            if self.hospital_resident is not None:
                self.notes.append(
                    f"{size}: HospitalResident not run — it takes about a minute at 10,000×4,000 and grows faster "
                    f"than linearly; the assignment is checked against the plain deferred acceptance instead."
                )
            large = n >= LARGE_SIZE[0]
            self.add(
                Row(
                    size,
                    "stable",
                    label,
                    seconds,
                    reference="plain pure-Python deferred acceptance",
                    reference_seconds=da_seconds,
                    comparison=its_time(seconds, da_seconds),
                    target=f"< {STABLE_SECONDS:g} s" if large else "—",
                    met=yes_no(seconds < STABLE_SECONDS) if large else "—",
                )
            )
            if large:
                self.command_line(cohort, ours)
        prepared = cohort.instance().prepared
        (seconds, _), (da_seconds, _) = timed(lambda: deferred_acceptance(prepared), plain, repeat=repeat)
        self.add(
            Row(
                size,
                "stable",
                "deferred_acceptance alone (prepared lists)",
                seconds,
                reference="plain pure-Python deferred acceptance",
                reference_seconds=da_seconds,
                comparison=its_time(seconds, da_seconds),
            )
        )

        (seconds, result), (ref_seconds, (ref_matched, ref_units)) = timed(
            lambda: solve_optimal(cohort.instance()), lambda: ortools_solve(ortools_graph(cohort)), repeat=repeat
        )
        units = sum(round(score * 1000) for score in result.scores.values())
        assert result.stats.matched == ref_matched, "optimal: matched count differs from OR-Tools"
        assert units == ref_units, "optimal: total score differs from OR-Tools"
        self.add(
            Row(
                size,
                "optimal",
                "solve_optimal (validate, prepare, solve, stats)",
                seconds,
                reference="OR-Tools min-cost max-flow, graph built from the lists",
                reference_seconds=ref_seconds,
                comparison=its_time(seconds, ref_seconds),
                target=f"≤ {OPTIMAL_RATIO:g}× its time",
                met=yes_no(seconds <= OPTIMAL_RATIO * ref_seconds),
            )
        )
        graph = ortools_graph(cohort)
        (seconds, _), (solve_seconds, _) = timed(
            lambda: optimal_assignment(prepared), lambda: ortools_solve(graph), repeat=repeat
        )
        self.add(
            Row(
                size,
                "optimal",
                "optimal_assignment alone (prepared lists)",
                seconds,
                reference="OR-Tools solve alone (graph built)",
                reference_seconds=solve_seconds,
                comparison=its_time(seconds, solve_seconds),
            )
        )

    def scoring(self, n: int, m: int, repeat: int) -> None:
        size = f"{n:,}×{m:,}"
        mentees, mentors = synthetic_records(n, m, self.seed)
        target = (n, m) == (10_000, 4_000)
        ref_seconds = reference = None
        if n * m <= 10_000 * 4_000:
            (seconds, dense), (ref_seconds, reference) = timed(
                lambda: score_cohort(mentees, mentors), lambda: reference_scoring(mentees, mentors), repeat=repeat
            )
        else:
            self.notes.append(
                f"{size}: scoring has no dense reference (a float64 matrix takes {n * m * 8 / 2**30:.1f} GiB); "
                "only each mentee's best 50 are kept."
            )
        if reference is not None:
            # The same scores, up to the 0.001-point units ours rounds each component to.
            assert np.allclose(dense.units / 1000, reference, atol=0.01), "scoring: scores differ from the reference"
            del dense
            self.add(
                Row(
                    size,
                    "scoring",
                    "score_cohort, every pair (as a match run does)",
                    seconds,
                    reference="dense numpy",
                    reference_seconds=ref_seconds,
                    comparison=faster(seconds, ref_seconds),
                    target=f"< {SCORING_SECONDS:g} s" if target else "—",
                    met=yes_no(seconds < SCORING_SECONDS) if target else "—",
                )
            )
        k = LIST_LENGTHS[1]
        ((seconds, top),) = timed(lambda: score_cohort(mentees, mentors, top_k=k), repeat=repeat)
        if reference is not None:
            best = -np.sort(-reference, axis=1)[:, :k]
            assert np.allclose(top.top_units / 1000, best, atol=0.01), "scoring: best scores differ from the reference"
        self.add(
            Row(
                size,
                "scoring",
                f"score_cohort, best {k} per mentee",
                seconds,
                reference="dense numpy" if ref_seconds is not None else "—",
                reference_seconds=ref_seconds,
                comparison=faster(seconds, ref_seconds) if ref_seconds is not None else "—",
            )
        )
        del reference, top
        if n >= LARGE_SIZE[0]:
            self.national_scoring(n, m, k)

    def recommend(self, m: int, repeat: int) -> None:
        """One mentee's best 10 of ``m`` mentors: prepared once (``prepare_mentors``, as a per-program cache
        holds them) against today's ``recommend`` on the records, the answers asserted equal."""
        size = f"1×{m:,}"
        mentees, mentors = synthetic_records(20, m, self.seed)
        ((prepare_seconds, prepared),) = timed(lambda: prepare_mentors(mentors), repeat=repeat)
        blob = pickle.dumps(prepared)
        ((load_seconds, _),) = timed(lambda: pickle.loads(blob), repeat=repeat)
        for p in mentees:
            assert recommend_prepared(p, prepared) == recommend(p, mentors), "recommend: prepared path differs"
        (seconds, _), (ref_seconds, _) = timed(
            lambda: [recommend_prepared(p, prepared) for p in mentees],
            lambda: [recommend(p, mentors) for p in mentees],
            repeat=repeat,
        )
        seconds, ref_seconds = seconds / len(mentees), ref_seconds / len(mentees)
        target = m == RECOMMEND_MENTORS[-1]
        self.add(
            Row(
                size,
                "recommend",
                f"recommend_prepared: one mentee's best 10 of {m:,}, explained",
                seconds,
                reference="recommend on the records (before issue 16)",
                reference_seconds=ref_seconds,
                comparison=faster(seconds, ref_seconds),
                target=f"≤ {RECOMMEND_MS:g} ms" if target else "—",
                met=yes_no(seconds * 1000 <= RECOMMEND_MS) if target else "—",
            )
        )
        self.add(
            Row(
                size,
                "recommend",
                f"prepare_mentors (once per version; {len(blob) / 2**20:.1f} MiB pickled)",
                prepare_seconds,
            )
        )
        self.add(Row(size, "recommend", "unpickling the prepared mentors (a shared cache's hit)", load_seconds))

    def national_scoring(self, n: int, m: int, k: int) -> None:
        """The best ``k`` per mentee at the national scale, each in a process of its own for its peak RSS:
        ours against ``score_cohort`` as it was before issue 16 (``SCORING_BEFORE``), the answers asserted equal."""
        from matching.engine import kernel

        runs, references = [], []
        for _ in range(self.repeat):  # ours and the reference take turns; medians below
            runs.append(scoring_process(n, m, k, self.seed, legacy=False))
            references.append(scoring_process(n, m, k, self.seed, legacy=True))
        seconds, ref_seconds = (statistics.median(run[0] for run in found) for found in (runs, references))
        rss, ours, ref_rss = runs[-1][1], runs[-1][2], references[-1][1]
        assert {run[2] for run in runs + references} == {ours}, (
            "national scoring: the best 50 differ from the argpartition selection's"
        )
        if kernel.available():
            loads = ", ".join(f"{run[3]:.1f} s" for run in runs)
            self.notes.append(
                f"{n:,}×{m:,} scoring, CPU seconds (all threads) of the runs: ours "
                + ", ".join(f"{run[4]:.2f}" for run in runs)
                + "; before issue 16 "
                + ", ".join(f"{run[4]:.2f}" for run in references)
                + "."
            )
            self.notes.append(
                f"{n:,}×{m:,} scoring: the compiled kernel's seconds exclude loading it, done before the clock "
                f"(a small top-k first): {loads} in this run's processes — reading the cached machine code "
                f"(matching/engine/__pycache__), or compiling it the first time after an install or a change."
            )
            # The same, by the numpy path that runs where numba is not installed.
            numpy_seconds, numpy_rss, by_numpy, _, _ = scoring_process(n, m, k, self.seed, legacy=False, numba=False)
            assert by_numpy == ours, "national scoring: the numpy path's best 50 differ from the kernel's"
            self.add(
                Row(
                    f"{n:,}×{m:,}",
                    "scoring",
                    f"score_cohort, best {k} per mentee, numpy path (MENTORMATCH_ENGINE_NUMBA=0)",
                    numpy_seconds,
                    reference=f"score_cohort before issue 16 (peak RSS {ref_rss})",
                    reference_seconds=ref_seconds,
                    comparison=faster(numpy_seconds, ref_seconds),
                    rss=numpy_rss,
                )
            )
        self.add(
            Row(
                f"{n:,}×{m:,}",
                "scoring",
                f"score_cohort, best {k} per mentee (process: records in, top-k out)",
                seconds,
                reference=f"score_cohort before issue 16 (git {SCORING_BEFORE[:7]}; peak RSS {ref_rss})",
                reference_seconds=ref_seconds,
                comparison=faster(seconds, ref_seconds),
                target=f"≤ {NATIONAL_SCORING_SECONDS:g} s, ≤ {NATIONAL_SCORING_RSS_GB:g} GB",
                met=yes_no(seconds <= NATIONAL_SCORING_SECONDS and rss_gb(rss) <= NATIONAL_SCORING_RSS_GB),
                rss=rss,
            )
        )

    def command_line(self, cohort: Cohort, expected: dict) -> None:
        """``python -m matching.engine solve --mode stable`` as a whole process (start-up, imports, JSON in,
        solve, JSON out) on the cohort's instance file (rankings, capacities, scores), taking turns with the
        plain deferred acceptance as a whole process on the same file (``benchmarks/plain_da.py``). At
        10,000×4,000 the reference is HospitalResident instead (``solvers``)."""
        n, m = len(cohort.mentee_ids), len(cohort.mentor_ids)
        with instance_file(cohort) as (path, megabytes):
            ours = ("matching.engine", "solve", "--mode", "stable", str(path))
            plain = ("benchmarks.plain_da", str(path))
            (seconds, (rss, output)), (ref_seconds, (ref_rss, ref_output)) = timed(
                lambda: process_output(*ours), lambda: process_output(*plain), repeat=self.repeat
            )
        assert json.loads(ref_output) == expected, "plain_da: the assignment differs from the reference's"
        self.add_command_line(
            n,
            m,
            megabytes,
            seconds,
            rss,
            output,
            expected,
            reference=f"plain deferred acceptance, a process too (plain_da.py; {ref_rss})",
            reference_seconds=ref_seconds,
            target=CLI_VS_DA,
        )

    def add_command_line(
        self, n, m, megabytes, seconds, rss, output, expected, *, reference, reference_seconds, target
    ) -> None:
        found = {k: v for k, v in json.loads(output)["assignment"].items() if v is not None}
        assert found == expected, "command line: the assignment differs from the reference's"
        self.add(
            Row(
                f"{n:,}×{m:,}",
                "cli",
                f"python -m matching.engine solve --mode stable, a process ({megabytes:.0f} MB file)",
                seconds,
                reference=reference,
                reference_seconds=reference_seconds,
                comparison=faster(seconds, reference_seconds),
                target=f"≥ {target:g}× faster",
                met=yes_no(reference_seconds >= target * seconds),
                rss=rss,
            )
        )


@contextmanager
def instance_file(cohort: Cohort) -> Iterator[tuple[Path, float]]:
    """The cohort as the command line reads it (rankings, capacities, scores), in a temporary file:
    (its path, its size in MB)."""
    data = {
        "mentees": [{"id": r, "ranking": cohort.mentee_rankings[r]} for r in cohort.mentee_ids],
        "mentors": [
            {"id": x, "capacity": cohort.capacity[x], "ranking": cohort.mentor_rankings[x]} for x in cohort.mentor_ids
        ],
        "scores": cohort.scores,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instance.json"
        path.write_text(json.dumps(data))
        yield path, path.stat().st_size / 2**20


def rss_gb(text: str) -> float:
    return float(text.split()[0]) / 1024 if text.endswith("MB") else float("inf")


# Runs a module as ``python -m`` would and, at exit, writes its own peak RSS (VmHWM) to stderr. A child's
# rusage would not do: its maximum counts the parent's memory it was forked from, however briefly.
_PEAK_WRAPPER = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM")))
atexit.register(peak)
module, sys.argv = sys.argv[1], sys.argv[1:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def process_output(module: str, *args: str, env: dict | None = None) -> tuple[str, str]:
    """(peak RSS, standard output) of ``python -m module args…``, which must succeed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.call(
            [sys.executable, "-c", _PEAK_WRAPPER, module, *args], cwd=ROOT, stdout=out, stderr=err, env=env
        )
        err.seek(0)
        errors = err.read()
        assert code == 0, f"python -m {module} failed: {errors[-2000:]}"
        kilobytes = int(next(line for line in errors.splitlines() if line.startswith("VmHWM")).split()[1])
        out.seek(0)
        return f"{kilobytes / 1024:,.0f} MB", out.read()


def scoring_process(
    n: int, m: int, k: int, seed: int, legacy: bool, numba: bool = True
) -> tuple[float, str, str, float, float]:
    """(seconds of score_cohort, peak RSS, digest of the top-k, seconds of the warm-up before the clock, CPU seconds
    of score_cohort, all threads) from a process that makes the records and scores them: the records are in the
    peak, as they are in a caller's. CPU seconds move less with the machine's load than wall seconds do.
    ``numba=False``: the numpy path. The warm-up (a small top-k) loads the compiled kernel, from its cache or,
    the first time after an install or a change to kernel.py, by compiling it."""
    env = None if numba else {**os.environ, "MENTORMATCH_ENGINE_NUMBA": "0"}
    spec = f"{n},{m},{k},{seed},{int(legacy)}"
    rss, output = process_output("benchmarks.engine_bench", "--score-child", spec, env=env)
    digest, seconds, loading, cpu = output.split()
    return float(seconds), rss, digest, float(loading), float(cpu)


# The scoring module as it was before issue 16 (per-row argpartition, 4 MB blocks, every product in full):
# the national-scale row's reference, run from git so that it stays what it was.
SCORING_BEFORE = "bf5d9390805480a5e3edec03e774bdfbb0575b84"


def scoring_before() -> object:
    """``matching/engine/scoring.py`` at ``SCORING_BEFORE``, loaded as a module next to ours."""
    import types

    source = subprocess.run(
        ["git", "show", f"{SCORING_BEFORE}:matching/engine/scoring.py"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    module = types.ModuleType("matching.engine._scoring_before")
    module.__package__ = "matching.engine"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"scoring.py@{SCORING_BEFORE[:7]}", "exec"), module.__dict__)
    return module


def score_child(spec: str) -> int:
    """``--score-child n,m,k,seed,legacy``: make the records, time score_cohort's top-k, print a digest."""
    import hashlib

    n, m, k, seed, legacy = (int(x) for x in spec.split(","))
    score = scoring_before().score_cohort if legacy else score_cohort
    mentees, mentors = synthetic_records(n, m, seed)
    start = time.perf_counter()
    if not legacy:
        # Where numba is installed, top-k mode runs the compiled kernel: load it (compiled once per install into
        # matching/engine/__pycache__, then read from there) before the clock starts, as a long-lived worker would have.
        score(mentees[:5000], mentors[:2000], top_k=1)
    loading = time.perf_counter() - start
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    top = score(mentees, mentors, top_k=k)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    digest = hashlib.blake2b(top.top_index.tobytes() + top.top_units.tobytes(), digest_size=16).hexdigest()
    print(digest, seconds, loading, cpu)
    return 0


def seconds_text(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds >= 0.01 else f"{seconds:.5f}"


def markdown(rows: list[Row]) -> list[str]:
    header = ("size", "task", "ours", "s", "reference", "s", "ours vs reference", "target", "met", "peak RSS")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        ref_s = seconds_text(r.reference_seconds) if r.reference_seconds is not None else "—"
        cells = (
            r.size,
            r.task,
            r.ours,
            seconds_text(r.seconds),
            r.reference,
            ref_s,
            r.comparison,
            r.target,
            r.met,
            r.rss,
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help=f"also run {LARGE_SIZE[0]:,}×{LARGE_SIZE[1]:,}")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--packages",
        type=Path,
        default=BENCH_PACKAGES,
        help=f"where the `matching` package is (default {BENCH_PACKAGES})",
    )
    parser.add_argument("--score-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.score_child:
        return score_child(args.score_child)

    hospital_resident, version = import_hospital_resident(args.packages)
    bench = Bench(
        args.repeat,
        args.seed,
        hospital_resident_solver(hospital_resident) if hospital_resident else None,
        f"matching {version}",
    )
    if hospital_resident is None:
        bench.notes.append(f"HospitalResident not measured: {version}.")
    sizes = DEFAULT_SIZES + ([LARGE_SIZE] if args.large else [])
    load_before = os.getloadavg()[0]
    for n, m in sizes:
        bench.solvers(n, m, args.repeat)
        gc.collect()
        bench.scoring(n, m, 1 if n >= LARGE_SIZE[0] else args.repeat)
        gc.collect()
    for m in RECOMMEND_MENTORS:
        bench.recommend(m, args.repeat)
        gc.collect()

    print(
        f"Seconds: medians of at least {args.repeat} runs, ours and its reference taking turns (2 runs of "
        "HospitalResident at 10,000×4,000, the command line taking turns with it too"
        + (
            f", of the in-process scoring at {LARGE_SIZE[0]:,}×{LARGE_SIZE[1]:,}, whose processes run {args.repeat} times each"
            if args.large
            else ""
        )
        + f"); every answer checked against its reference. {os.cpu_count()} CPUs, load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; BLAS threads: "
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'OpenBLAS default')}."
    )
    print()
    print("\n".join(markdown(bench.rows)))
    if bench.notes:
        print()
        for note in bench.notes:
            print(f"* {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
