"""Page performance at scale: ``python -m benchmarks.page_bench [--quick]`` (``make bench-pages``).

Needs PostgreSQL, Redis and ``wrk`` (``apt-get install -y wrk``): DATABASE_URL and REDIS_URL, e.g.
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/mm_pages REDIS_URL=redis://127.0.0.1:6379/10``.
It works in a throwaway database, ``test_<name>`` (Django's test-database machinery: created and
migrated fresh, dropped at the end), so the database named in DATABASE_URL is never touched. In
Redis it deletes only its own key (the vocabulary names) and, after the match review and roster
rows, the tasks those queued (Celery's purge), in the database REDIS_URL names (never the test
suite's).

It seeds 5,000 mentors, 20,000 residents (four programs) and 50,000 past mentorships, plus one
active career mentorship for every fourth resident, with profiles as the demo has them (goals,
interests, languages, formats, weekly availability). Everyone's password is unusable but the two
signed-in personas' (a resident and a coordinator), whose sessions come from the session engine.

Then it serves the app with gunicorn on loopback (production settings: DEBUG off, persistent
database connections, two sync workers) and drives each page with wrk for a fixed time. Each page
is reported against three reference views measured in the same run, on the same server: a trivial
view (the middleware stack and "ok"), one that adds a single ``SELECT 1``, and a signed-in
resident's empty page (the session, the user and ``base.html`` around no content: what every page
pays before its own work). The machines are shared and noisy; the ratios travel between runs
better than the milliseconds do. Beside each page, the largest gunicorn worker's peak RSS while it
served that page (the peak is started over before each page: /proc/PID/clear_refs).

After the pages, a second table times what a coordinator waits for on a large run and roster, in
this process, a few times each on fresh state (``benchmarks.page_writes``): the match review's
first screen, accepting one proposal, publishing a run's pairings, a roster import's preview and
apply. ``--no-writes`` leaves them out; ``--only review`` (or accept, publish, roster, writes)
selects them.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from benchmarks import common, page_writes

ROOT = Path(__file__).resolve().parents[1]
SCALES = {
    # mentors, residents, past mentorships
    "full": (5_000, 20_000, 50_000),
    "quick": (500, 2_000, 5_000),
}
PROGRAM_COUNT = 4
PERSONA_PASSWORD = "page-bench-persona"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("PAGE_BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _require_tools_and_services() -> None:
    problems = []
    if shutil.which("wrk") is None:
        problems.append("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk)")
    common.require_services(
        "page_bench", example_database="mm_pages", example_redis_db=10, make_target="bench-pages", problems=problems
    )


def _production_env(static_root: str) -> dict[str, str]:
    """As in production: no debug pages or query log, a real key, one allowed host, persistent
    database connections. TLS ends at a proxy in production; requests say so with X-Forwarded-Proto."""
    return {
        "DJANGO_SETTINGS_MODULE": "benchmarks.page_settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "page-bench-only-not-a-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "60"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PAGE_BENCH_STATIC_ROOT": static_root,
    }


# ---------------------------------------------------------------------------------------------
# The data


@dataclass
class Seeded:
    resident: object
    coordinator: object
    program: object
    counts: dict


def seed(rng: random.Random, *, mentors_n: int, residents_n: int, past_n: int) -> Seeded:
    """Programs, people, profiles, windows and mentorships, bulk-inserted (as ``demo.people``
    and ``benchmarks.app_bench`` seed theirs, the shared parts from ``benchmarks.common``)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Institution, MenteeProfile, MentorProfile, Program, Specialty
    from matching.models import Kind, Mentorship

    vocabulary = common.load_vocabulary()
    im = vocabulary.internal_medicine
    others = list(Specialty.objects.filter(parent__isnull=True).exclude(pk=im.pk).order_by("slug")[: PROGRAM_COUNT - 1])
    specialties = [im, *others]
    subspecialties = {s.pk: list(Specialty.objects.filter(parent=s)) for s in specialties}

    hospital, _ = Institution.objects.get_or_create(name="Bench Hospital", defaults={"slug": "bench-hospital"})
    programs = Program.objects.bulk_create(
        Program(name=f"{s.name} Residency", slug=f"bench-{k}", institution=hospital, specialty=s)
        for k, s in enumerate(specialties)
    )
    unusable = make_password(None)
    persona = make_password(PERSONA_PASSWORD)
    people = (
        [("coordinator", 0, programs[0])]
        + [("resident", k, programs[k % PROGRAM_COUNT]) for k in range(residents_n)]
        + [("mentor", k, programs[k % PROGRAM_COUNT]) for k in range(mentors_n)]
    )
    users = common.seed_people(
        people,
        last_name=lambda k: f"{rng.choice('ABCDEFGHJKLMNPRSTW')}{k:05d}",
        # The two personas sign in; nobody else does.
        password=lambda role, k: persona if (role, k) in {("coordinator", 0), ("resident", 0)} else unusable,
    )
    coordinator, residents, mentors = users[0], users[1 : 1 + residents_n], users[1 + residents_n :]
    program_of = {user.pk: program for user, (_, _, program) in zip(users, people, strict=True)}

    mentee_profiles = MenteeProfile.objects.bulk_create(
        (MenteeProfile(user=user, career_stage=vocabulary.stages[f"PGY-{rng.randint(1, 5)}"]) for user in residents),
        batch_size=5000,
    )
    mentor_profiles = []
    for user in mentors:
        program_specialty = program_of[user.pk].specialty
        specialty = program_specialty if rng.random() < 0.8 else rng.choice(specialties)
        mentor_profiles.append(
            MentorProfile(
                user=user,
                specialty=specialty,
                subspecialty=rng.choice([None, *subspecialties[specialty.pk]]),
                academic_rank=rng.choice(vocabulary.ranks),
                capacity=rng.randint(1, 4),
                accepting_mentees=rng.random() < 0.9,
            )
        )
    mentor_profiles = MentorProfile.objects.bulk_create(mentor_profiles, batch_size=5000)
    all_subspecialties = [s for subs in subspecialties.values() for s in subs]
    common.seed_profile_details(rng, vocabulary, mentee_profiles, mentor_profiles, subspecialties=all_subspecialties)
    windows = common.seed_availability(rng, residents + mentors)

    # Past pairings, ended or completed over the last four years, mostly within one program.
    by_program = {p.pk: ([], []) for p in programs}
    for user in residents:
        by_program[program_of[user.pk].pk][0].append(user)
    for user in mentors:
        by_program[program_of[user.pk].pk][1].append(user)
    now = timezone.now()
    kinds = [k for k, _ in Kind.choices]
    past = []
    for _ in range(past_n):
        program = rng.choice(programs)
        program_residents, program_mentors = by_program[program.pk]
        started = now - timedelta(days=rng.randint(90, 4 * 365))
        status = Mentorship.Status.COMPLETED if rng.random() < 0.7 else Mentorship.Status.ENDED
        past.append(
            Mentorship(
                mentee=rng.choice(program_residents),
                mentor=rng.choice(program_mentors),
                program=program,
                kind=rng.choice(kinds),
                source=rng.choice([Mentorship.Source.REQUEST, Mentorship.Source.MATCH_RUN]),
                status=status,
                started_at=started,
                ended_at=started + timedelta(days=rng.randint(30, 360)),
                end_reason="" if status == Mentorship.Status.COMPLETED else "Rotation schedules clashed.",
            )
        )
    Mentorship.objects.bulk_create(past, batch_size=10000)

    # Every fourth resident has an active career mentor in their program, within capacity.
    spots = {p.user_id: p.capacity for p in mentor_profiles}
    active = []
    for program in programs:
        program_residents, program_mentors = by_program[program.pk]
        open_mentors = [m for m in program_mentors if spots[m.pk] > 0]
        for resident in program_residents[::4]:
            if not open_mentors:
                break
            mentor = rng.choice(open_mentors)
            spots[mentor.pk] -= 1
            if spots[mentor.pk] == 0:
                open_mentors.remove(mentor)
            active.append(
                Mentorship(
                    mentee=resident,
                    mentor=mentor,
                    program=program,
                    kind=Kind.CAREER,
                    source=Mentorship.Source.MATCH_RUN,
                    started_at=now - timedelta(days=rng.randint(1, 300)),
                )
            )
    Mentorship.objects.bulk_create(active, batch_size=10000)
    return Seeded(
        resident=residents[0],
        coordinator=coordinator,
        program=programs[0],
        counts={
            "mentors": len(mentors),
            "residents": len(residents),
            "past mentorships": len(past),
            "active mentorships": len(active),
            "availability windows": windows,
        },
    )


def session_for(user) -> str:
    """A signed-in session made by the session engine, as a login would make it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


# ---------------------------------------------------------------------------------------------
# The pages


@dataclass
class Page:
    name: str
    path: str
    session: str | None  # None: not signed in (the references)
    queries: int | None = None
    in_process_ms: float | None = None
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    bad: int = 0  # non-2xx/3xx answers and socket errors
    peak_rss_mb: float | None = None  # the largest gunicorn worker's peak RSS while serving this page


REFERENCES = 3  # the first pages of ``pages_for``: measured whatever --only says


def pages_for(seeded: Seeded, resident_session: str, coordinator_session: str) -> list[Page]:
    from core.search import SEARCH_MAX_TERMS

    # The costliest search a box accepts: as many words as allowed, each matching many rows.
    widest_search = "+".join(["a", "e", "i", "o", "n", "r", "s", "t"][:SEARCH_MAX_TERMS])
    return [
        Page("trivial view (reference)", "/bench/trivial/", None),
        Page("one SELECT 1 (reference)", "/bench/one-query/", None),
        Page("signed-in empty page (reference)", "/bench/shell/", resident_session),
        Page("mentor directory (resident)", "/mentors/", resident_session),
        Page("recommendations API (resident)", "/api/v1/me/recommendations/", resident_session),
        Page("dashboard (resident)", "/dashboard/", resident_session),
        Page("pairings list (coordinator)", f"/programs/{seeded.program.slug}/pairings/", coordinator_session),
        Page("mentors API list (resident)", "/api/v1/mentors/", resident_session),
        Page("mentors API search, most words (resident)", f"/api/v1/mentors/?q={widest_search}", resident_session),
    ]


def measure_in_process(page: Page, *, profile: bool) -> str | None:
    """The page's query count and one request's time, in this process (after one warm-up request).
    With ``profile``, the cProfile listing of that request, by cumulative time."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if page.session:
        client.cookies[settings.SESSION_COOKIE_NAME] = page.session
    get = lambda: client.get(page.path, secure=True, headers={"host": "127.0.0.1"})  # noqa: E731
    response = get()
    if response.status_code != 200:
        sys.exit(f"page_bench: {page.path} answered {response.status_code} in-process, not 200")
    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        get()
        if profiler:
            profiler.disable()
        page.in_process_ms = (time.perf_counter() - start) * 1000
    page.queries = len(queries)
    if profiler is None:
        return None
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _headers(page: Page) -> dict[str, str]:
    from django.conf import settings

    headers = {"X-Forwarded-Proto": "https"}
    if page.session:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={page.session}"
    return headers


def _get_status(port: int, page: Page) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", page.path, headers=_headers(page))
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def start_gunicorn(env: dict[str, str], port: int, workers: int, log_path: Path) -> subprocess.Popen:
    """Sync workers: the pages are CPU-bound Python and the machine has two cores, so one process
    per core serves them best; threads (gthread) would only share a worker's GIL. Sync workers close
    the connection after each answer (no keep-alive), as they do behind a proxy in production."""
    log = open(log_path, "w")  # noqa: SIM115  (the server writes to it until it stops)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    probe = Page("probe", "/bench/trivial/", None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("page_bench: gunicorn exited early:\n" + log_path.read_text())
        try:
            if _get_status(port, probe) == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)  # polling for the socket to open, with the deadline above
    common.stop_process(server, timeout=30)
    sys.exit("page_bench: gunicorn did not answer within 60 s:\n" + log_path.read_text())


def run_wrk(page: Page, port: int, *, duration: int, connections: int, threads: int, script: Path) -> list[int]:
    args = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
    ]
    for name, value in _headers(page).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{page.path}"], capture_output=True, text=True, check=True)
    line = next((line for line in out.stdout.splitlines() if line.startswith("PAGE_BENCH ")), None)
    if line is None:
        sys.exit(f"page_bench: no result from wrk for {page.path}:\n{out.stdout}\n{out.stderr}")
    return [int(x) for x in line.split()[1:]]


def drain(port: int, workers: int) -> None:
    """Wait until the requests wrk left queued when it stopped have been served, so that they do
    not land in the next page's time: a probe per worker, sent now, is answered only after them
    (the listen queue is first come, first served)."""
    probe = Page("probe", "/bench/trivial/", None)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda _: _get_status(port, probe), range(workers)))


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master's worker processes (Linux's /proc)."""
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def reset_peak_rss(pids: list[int]) -> None:
    """Start each worker's peak RSS (VmHWM) over from its current RSS: writing 5 to clear_refs
    (Linux 4.0 and later), so that each page's figure is its own, not the largest so far."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def peak_rss_mb(pids: list[int]) -> float | None:
    """The largest peak RSS (VmHWM) among ``pids``, in MB; None where /proc cannot tell."""
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)  # kB
    return max(peaks, default=None)


def measure_with_wrk(
    page: Page,
    port: int,
    *,
    duration: int,
    warmup: int,
    connections: int,
    threads: int,
    workers: int,
    script: Path,
    pids: list[int],
):
    reset_peak_rss(pids)
    status = _get_status(port, page)
    if status != 200:  # a redirect to the login page would be fast, and wrong
        sys.exit(f"page_bench: {page.path} answered {status} through gunicorn, not 200")
    if warmup:
        run_wrk(page, port, duration=warmup, connections=connections, threads=threads, script=script)
        drain(port, workers)
    requests, micros, p50, p95, p99, status_errors, socket_errors = run_wrk(
        page, port, duration=duration, connections=connections, threads=threads, script=script
    )
    drain(port, workers)
    page.peak_rss_mb = peak_rss_mb(pids)
    page.requests, page.bad = requests, status_errors + socket_errors
    page.rps = requests / (micros / 1e6)
    page.p50_ms, page.p95_ms, page.p99_ms = p50 / 1000, p95 / 1000, p99 / 1000


def _purge_queued_tasks() -> None:
    """Drop the tasks the writes queued (their e-mails, for a worker that is not running) from the
    broker, the Redis database REDIS_URL names (the bench's own: never the test suite's)."""
    from config.celery import app

    app.control.purge()


# ---------------------------------------------------------------------------------------------


def print_table(pages: list[Page]) -> None:
    trivial, one_query, shell = pages[:REFERENCES]
    header = (
        "page",
        "queries",
        "in-process ms",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p50 ÷ trivial",
        "p95 ÷ trivial",
        "req/s ÷ trivial",
        "p50 ÷ SELECT 1",
        "p50 ÷ empty page",
        "worker peak RSS MB",
        "errors",
    )
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for page in pages:
        if page.requests == 0:  # not one answer within the run: no latency to report
            cells = (page.name, str(page.queries), f"{page.in_process_ms:.1f}", "0", *["—"] * 8, str(page.bad))
            print("| " + " | ".join(cells) + " |")
            continue
        cells = (
            page.name,
            str(page.queries),
            f"{page.in_process_ms:.1f}",
            f"{page.rps:.1f}",
            f"{page.p50_ms:.1f}",
            f"{page.p95_ms:.1f}",
            f"{page.p50_ms / trivial.p50_ms:.1f}×",
            f"{page.p95_ms / trivial.p95_ms:.1f}×",
            f"{page.rps / trivial.rps:.3f}",
            f"{page.p50_ms / one_query.p50_ms:.1f}×",
            f"{page.p50_ms / shell.p50_ms:.1f}×",
            "—" if page.peak_rss_mb is None else f"{page.peak_rss_mb:.0f}",
            str(page.bad),
        )
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data (500 mentors, 2,000 residents)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of untimed wrk per page first (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2, one per core)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing of each page, in-process")
    parser.add_argument(
        "--only",
        help="measure only pages whose name contains one of these, comma-separated (the references always run)",
    )
    parser.add_argument(
        "--no-writes", action="store_true", help="leave out the match review and roster rows (benchmarks.page_writes)"
    )
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    _require_tools_and_services()

    workdir = Path(tempfile.mkdtemp(prefix="page-bench-"))
    env = _production_env(str(workdir / "static"))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    mentors_n, residents_n, past_n = SCALES["quick" if args.quick else "full"]
    writes_wanted, writes, wrong = not args.no_writes, [], ""
    load_before = os.getloadavg()[0]
    server = None
    try:
        with common.throwaway_database() as database_name:
            try:
                call_command("collectstatic", interactive=False, verbosity=0)
                print(
                    f"Seeding {mentors_n:,} mentors, {residents_n:,} residents, {past_n:,} past mentorships…",
                    file=sys.stderr,
                    flush=True,
                )
                start = time.perf_counter()
                seeded = seed(random.Random(args.seed), mentors_n=mentors_n, residents_n=residents_n, past_n=past_n)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")  # fresh tables: give the planner its statistics, as autovacuum would
                seconds_seeding = time.perf_counter() - start
                coordinator_session = session_for(seeded.coordinator)
                pages = pages_for(seeded, session_for(seeded.resident), coordinator_session)
                if args.only:
                    wanted = [w.strip().lower() for w in args.only.split(",")]
                    pages = pages[:REFERENCES] + [
                        p for p in pages[REFERENCES:] if any(w in p.name.lower() for w in wanted)
                    ]
                    writes_wanted = any(w in page_writes.ROW_WORDS for w in wanted)

                for page in pages:
                    listing = measure_in_process(page, profile=args.profile and page.session is not None)
                    if listing:
                        print(f"\n--- {page.name}: {page.path}\n{listing}", file=sys.stderr)

                port = _free_port()
                script = workdir / "report.lua"
                script.write_text(WRK_SCRIPT)
                server_env = {**env, "DATABASE_URL": common.database_url(database_name)}
                server = start_gunicorn(server_env, port, args.workers, workdir / "gunicorn.log")
                pids = worker_pids(server)
                for page in pages:
                    print(
                        f"wrk: {page.name} ({args.duration} s after {args.warmup} s warm-up)…",
                        file=sys.stderr,
                        flush=True,
                    )
                    measure_with_wrk(
                        page,
                        port,
                        duration=args.duration,
                        warmup=args.warmup,
                        connections=args.connections,
                        threads=args.threads,
                        workers=args.workers,
                        script=script,
                        pids=pids,
                    )
            finally:
                if server is not None:
                    common.stop_process(server, timeout=30)
            if writes_wanted:
                # After the pages: the writes add people (the roster) and change runs.
                try:
                    writes = page_writes.measure_writes(
                        seeded, coordinator_session, quick=args.quick, log=lambda text: print(text, file=sys.stderr)
                    )
                except page_writes.WrongAnswer as exc:
                    wrong = str(exc)
                finally:
                    _purge_queued_tasks()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    counts = ", ".join(f"{v:,} {k}" for k, v in seeded.counts.items())
    print(
        f"Data: {counts}; seeded in {seconds_seeding:.1f} s. gunicorn with {args.workers} sync workers on loopback, "
        f"DEBUG off, CONN_MAX_AGE={env['CONN_MAX_AGE']}; wrk {args.threads} threads × {args.connections} connections, "
        f"{args.duration} s per page after {args.warmup} s warm-up. {os.cpu_count()} CPUs, load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end."
    )
    print()
    print_table(pages)
    if writes:
        print()
        page_writes.print_rows(writes)
    failed = [page.name for page in pages if page.bad]
    if failed:
        # A benchmark, not a timed test: it fails on wrong answers, never on slowness.
        print(f"page_bench: errors under load on {', '.join(failed)} (see the errors column)", file=sys.stderr)
        return 1
    if wrong:
        print(f"page_bench: a write answered wrongly: {wrong}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
