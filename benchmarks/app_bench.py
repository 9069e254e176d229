"""A whole match run through the app: ``python -m benchmarks.app_bench [--repeat N]`` (``make bench-app``).

Needs PostgreSQL and Redis: DATABASE_URL and REDIS_URL, e.g.
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_bench REDIS_URL=redis://127.0.0.1:6379/14``.
It works in a throwaway database, ``test_<name>`` (Django's test-database machinery: created and
migrated fresh, dropped at the end), so the database named in DATABASE_URL is never touched. It uses
only the Redis database in REDIS_URL (not 15, the test suite's), deletes only its own keys, and
starts and stops its own Celery worker process.

It seeds a 200-resident program with 80 mentors (profiles, weekly availability, specialty and
subspecialty interests), then for each algorithm creates match runs through
``matching.match_runs.services`` with a ranking window, has every resident and most mentors rank
through ``ranking_submit``, closes the window and enqueues ``run_match``. It times each run from the
enqueue to the run being finished (the worker loads the cohort, scores, solves, writes the
proposals), and compares that with the engine alone doing the same cohort in this process (scoring,
solving, why-not for the unmatched), so the table shows what the app adds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]
RESIDENTS, MENTORS = 200, 80
TARGET_SECONDS = 1.0


def _require_services() -> None:
    common.require_services("app_bench", example_database="mm_bench", example_redis_db=14, make_target="bench-app")


def _setup_django() -> None:
    # As in production: no query log, no debug pages. The key exists only for this process and its worker.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "app-bench-only-not-a-secret")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# The program


def seed_program(rng: random.Random):
    """A program, its coordinator, 200 residents and 80 mentors with full profiles; returns
    (program, coordinator, residents, mentors). Bulk-inserted, as ``demo.people`` seeds the demo."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Institution, MenteeProfile, MentorProfile, Program, Specialty
    from matching.models import Notification, NotificationPreference

    vocabulary = common.load_vocabulary()
    im = vocabulary.internal_medicine
    subspecialties = list(Specialty.objects.filter(parent=im))
    others = list(Specialty.objects.filter(parent__isnull=True).exclude(pk=im.pk).prefetch_related("subspecialties"))

    hospital, _ = Institution.objects.get_or_create(name="Bench Hospital", defaults={"slug": "bench-hospital"})
    program = Program.objects.create(
        name="Internal Medicine Residency", slug="im-bench", institution=hospital, specialty=im
    )
    password = make_password(None)  # unusable: nobody logs in
    people = (
        [("coordinator", 0, program)]
        + [("resident", k, program) for k in range(RESIDENTS)]
        + [("mentor", k, program) for k in range(MENTORS)]
    )
    users = common.seed_people(people, last_name=lambda k: f"{k:03d}", password=lambda role, k: password)
    coordinator, residents, mentors = users[0], users[1 : 1 + RESIDENTS], users[1 + RESIDENTS :]
    # Notices by daily digest, so that no e-mail task queues in front of the runs being timed.
    NotificationPreference.objects.bulk_create(
        NotificationPreference(user=user, delivery=Notification.Delivery.DIGEST) for user in users
    )

    mentee_profiles = MenteeProfile.objects.bulk_create(
        MenteeProfile(user=user, career_stage=vocabulary.stages[f"PGY-{rng.randint(1, 3)}"]) for user in residents
    )
    mentor_profiles = []
    for user in mentors:
        if rng.random() < 0.75:  # most mentors are internists, many with a subspecialty
            specialty, sub = im, rng.choice([None, *subspecialties])
        else:
            specialty = rng.choice(others)
            sub = rng.choice([None, *specialty.subspecialties.all()])
        mentor_profiles.append(
            MentorProfile(
                user=user,
                specialty=specialty,
                subspecialty=sub,
                academic_rank=rng.choice(vocabulary.ranks),
                capacity=rng.randint(1, 4),
                accepting_mentees=True,
            )
        )
    mentor_profiles = MentorProfile.objects.bulk_create(mentor_profiles)
    common.seed_profile_details(rng, vocabulary, mentee_profiles, mentor_profiles, subspecialties=subspecialties)
    common.seed_availability(rng, residents + mentors)
    return program, coordinator, residents, mentors


def submit_rankings(run, residents, mentors, rng: random.Random) -> None:
    """Every resident ranks 10–50 mentors; three mentors in four rank most of the residents who ranked them."""
    from matching.match_runs.ranking import ranking_submit

    ranked_by: dict[int, list] = {m.pk: [] for m in mentors}
    for resident in residents:
        chosen = rng.sample(mentors, rng.randint(10, min(50, len(mentors))))
        ranking_submit(run=run, actor=resident, ordered_ids=[m.pk for m in chosen])
        for mentor in chosen:
            ranked_by[mentor.pk].append(resident)
    for mentor in mentors:
        if rng.random() < 0.75 and ranked_by[mentor.pk]:
            applicants = [r.pk for r in ranked_by[mentor.pk] if rng.random() < 0.9]
            rng.shuffle(applicants)
            ranking_submit(run=run, actor=mentor, ordered_ids=applicants)


# ---------------------------------------------------------------------------------------------
# The worker


def start_worker(database_name: str) -> subprocess.Popen:
    """A ``celery worker`` process on the throwaway database, as the integration tests start one."""
    from config.celery import app

    env = {**os.environ, "DATABASE_URL": common.database_url(database_name)}
    app.control.purge()  # tasks left in this Redis database by an earlier, interrupted bench
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit("app_bench: the celery worker exited early:\n" + worker.stderr.read())
        if app.control.ping(timeout=0.5):
            return worker
    worker.kill()
    sys.exit("app_bench: the celery worker did not answer a ping within 60 s")


# ---------------------------------------------------------------------------------------------
# Runs


def one_run(program, coordinator, residents, mentors, algorithm: str, rng: random.Random) -> dict:
    """Create, rank, close the window, enqueue; wait for the worker. Returns the timings."""
    from django.utils import timezone

    from matching.match_runs.services import match_run_create
    from matching.models import MatchProposal, MatchRun
    from matching.tasks import run_match

    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm=algorithm,
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        ranking_deadline=timezone.now() + timedelta(hours=1),
    )
    submit_rankings(run, residents, mentors, rng)
    # The window closes (the sweeper would enqueue the run from here): enqueue it now and start the clock.
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now())
    start = time.perf_counter()
    run_match.delay(run.pk)
    deadline = start + 120
    finished = (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED)
    while (status := MatchRun.objects.values_list("status", flat=True).get(pk=run.pk)) not in finished:
        if time.perf_counter() > deadline:
            sys.exit(f"app_bench: run {run.pk} is still {status} after 120 s")
        time.sleep(0.002)
    observed = time.perf_counter() - start
    run.refresh_from_db()
    if status != MatchRun.Status.SUCCEEDED:
        sys.exit(f"app_bench: run {run.pk} failed: {run.error}")
    stats = run.stats
    assert MatchProposal.objects.filter(run_id=run.pk).count() == len(residents)
    return {
        "end_to_end": observed,
        **stats.get("seconds", {}),
        "run": run,
        "matched": stats["matched"],
    }


def engine_alone(run, repeat: int) -> tuple[float, object]:
    """The engine's part of the same run, in this process, on the cohort the worker loaded."""
    from matching import engine
    from matching.match_cohort import load_cohort

    cohort = load_cohort(run)
    weights = engine.Weights.from_mapping(run.weights or {})

    def work():
        scores = engine.score_cohort(cohort.mentees, cohort.mentors, weights=weights, exclusions=cohort.exclusions)
        instance = engine.build_instance(
            scores,
            cohort.mentors,
            mentee_rankings=cohort.mentee_rankings,
            mentor_rankings=cohort.mentor_rankings,
            never=cohort.never,
        )
        result = engine.solve(instance, run.algorithm)
        engine.why_not_unmatched(instance, result, names=cohort.names)
        return result

    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per algorithm, median reported (default 5)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    _require_services()
    _setup_django()

    rng = random.Random(args.seed)
    worker = None
    load_before = os.getloadavg()[0]
    with common.throwaway_database() as database_name:
        try:
            program, coordinator, residents, mentors = seed_program(rng)
            worker = start_worker(database_name)
            rows = []
            for algorithm in ("stable", "optimal"):
                print(f"{algorithm}: a warm-up run, then {args.repeat} timed…", file=sys.stderr, flush=True)
                one_run(program, coordinator, residents, mentors, algorithm, rng)
                runs = [one_run(program, coordinator, residents, mentors, algorithm, rng) for _ in range(args.repeat)]
                alone, result = engine_alone(runs[-1]["run"], args.repeat)
                assert result.stats.matched == runs[-1]["matched"], "the engine alone matched a different number"
                median = {
                    key: statistics.median(r.get(key, 0.0) for r in runs)
                    for key in ("end_to_end", "load", "score", "solve", "write")
                }
                rows.append((algorithm, median, alone, runs[-1]["matched"]))
        finally:
            if worker is not None:
                common.stop_process(worker, timeout=20)

    print(
        f"A {RESIDENTS}-resident program with {MENTORS} mentors, every resident ranking 10–50 of them; PostgreSQL, "
        f"Redis and one Celery worker process (solo pool) on this machine. Seconds: median of {args.repeat} runs "
        "after a warm-up run. Enqueue → finished: from run_match.delay() until this process, polling every 2 ms, "
        "sees the run finished. Load, score, solve and write are the run's own laps (stats['seconds']). "
        f"{os.cpu_count()} CPUs, load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end."
    )
    print()
    header = (
        "algorithm",
        "matched",
        "enqueue → finished",
        "load",
        "score",
        "solve (+why-not)",
        "write",
        "engine alone, in-process",
        "app ÷ engine",
        "target",
        "met",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for algorithm, m, alone, matched in rows:
        cells = (
            algorithm,
            f"{matched} of {RESIDENTS}",
            f"{m['end_to_end']:.3f}",
            f"{m['load']:.3f}",
            f"{m['score']:.3f}",
            f"{m['solve']:.3f}",
            f"{m['write']:.3f}",
            f"{alone:.3f}",
            f"{m['end_to_end'] / alone:.1f}×",
            f"< {TARGET_SECONDS:g} s",
            "yes" if m["end_to_end"] < TARGET_SECONDS else "**no**",
        )
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
