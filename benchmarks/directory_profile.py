"""The mentor directory in-process, at the bench's scale: ``python -m benchmarks.directory_profile``.

Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL, as ``benchmarks.page_bench``). It seeds the
data ``page_bench`` seeds (5,000 mentors, 20,000 residents; ``--quick``: a tenth) into a database of
its own, ``<DATABASE_URL's name>_dirprof`` (created, migrated, dropped at the end; ``--keep`` leaves
it for the next run, which then skips the seeding), and times ``/mentors/`` for the resident persona
through Django's test client, after a warm-up request (the kept mentors cached, as on a busy
server), interleaved with the trivial view (the middleware stack and "ok") so that the machine's
load shows in both: medians of ``--repeat`` requests each, their ratio, and the page's queries.
``--profile`` adds a cProfile listing of one more directory request; ``--path`` times another
query string of the page (``/mentors/?expertise=…``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time

from benchmarks import common, page_bench


def _resident_persona():
    """The persona ``page_bench.seed`` signs in: resident0, who has a mentee profile."""
    from accounts.models import User

    return User.objects.get(email="resident0@bench.example")


def _timed(get, n: int) -> list[tuple[float, float]]:
    """(wall ms, this process's CPU ms) of ``n`` requests: the CPU time leaves out the waits for the
    database and for the other jobs on a shared machine."""
    times = []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        response = get()
        times.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        assert response.status_code == 200, response.status_code
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.directory_profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the data (500 mentors, 2,000 residents)")
    parser.add_argument("--repeat", type=int, default=15, help="requests timed per view (default 15)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile listing of one directory request")
    parser.add_argument("--path", default="/mentors/", help="the directory's path and query string")
    parser.add_argument("--save-html", metavar="FILE", help="write the directory's page to FILE (to compare markup)")
    parser.add_argument("--keep", action="store_true", help="keep the database for the next run (reused if seeded)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    common.require_services(
        "directory_profile", example_database="mm_pages", example_redis_db=10, make_target="bench-pages"
    )
    static_root = tempfile.mkdtemp(prefix="directory-profile-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchmarks.page_settings",
            "DJANGO_DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "directory-profile-only-not-a-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "PAGE_BENCH_STATIC_ROOT": static_root,  # empty: the page's assets are not requested
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from accounts.models import MentorProfile
    from matching.recommendations import VOCABULARY_CACHE_KEY

    # Static files as in DEBUG (no manifest to collect): the page's {% static %} tags resolve.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    original = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{original}_dirprof"
    mentors_n, residents_n, past_n = page_bench.SCALES["quick" if args.quick else "full"]
    print(f"Creating and migrating {original}_dirprof…", file=sys.stderr, flush=True)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=args.keep)
    try:
        cache.delete(VOCABULARY_CACHE_KEY)
        if MentorProfile.objects.count() != mentors_n:
            if MentorProfile.objects.exists():
                sys.exit("directory_profile: the kept database holds another scale; drop it or leave out --keep")
            print(f"Seeding {mentors_n:,} mentors, {residents_n:,} residents…", file=sys.stderr, flush=True)
            page_bench.seed(random.Random(args.seed), mentors_n=mentors_n, residents_n=residents_n, past_n=past_n)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = page_bench.session_for(_resident_persona())
        get = lambda path: client.get(path, secure=True, headers={"host": "127.0.0.1"})  # noqa: E731
        directory = lambda: get(args.path)  # noqa: E731
        trivial = lambda: get("/bench/trivial/")  # noqa: E731
        _timed(directory, 2)  # warm-up: the kept mentors built and cached, templates loaded
        _timed(trivial, 2)
        queries = []  # every statement, by an execute wrapper: nothing Django resets or caps

        def record(execute, sql, params, many, context):
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append(((time.perf_counter() - start) * 1000, sql))

        with connection.execute_wrapper(record):
            response = directory()
        if args.save_html:
            with open(args.save_html, "wb") as out:
                out.write(response.content)
        gc.collect()
        page, ref = [], []
        for _ in range(args.repeat):  # interleaved: a burst of load elsewhere lands on both
            page += _timed(directory, 1)
            ref += _timed(trivial, 1)
        page_ms, ref_ms = (statistics.median(wall for wall, _cpu in times) for times in (page, ref))
        page_cpu, ref_cpu = (statistics.median(cpu for _wall, cpu in times) for times in (page, ref))
        print(f"{mentors_n:,} mentors, {residents_n:,} residents; load average {os.getloadavg()[0]:.1f}")
        print(f"{'view':<28} {'queries':>7} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'median CPU ms':>14}")
        for path, n, times, median_ms, cpu_ms in (
            (args.path, len(queries), page, page_ms, page_cpu),
            ("/bench/trivial/", 0, ref, ref_ms, ref_cpu),
        ):
            walls = [wall for wall, _cpu in times]
            print(f"{path:<28} {n:>7} {median_ms:>10.1f} {min(walls):>8.1f} {max(walls):>8.1f} {cpu_ms:>14.1f}")
        print(f"directory ÷ trivial: {page_ms / ref_ms:.0f}× (CPU: {page_cpu / ref_cpu:.0f}×)")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU time: waits for the database leave it
            profiler.enable()
            directory()
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
            # What the view's own steps cost, one level down.
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees(r"views/directory\.py")
            print(out.getvalue())
            for ms, sql in queries:
                print(f"{ms:>7.2f} ms  {sql[:200]}")
    finally:
        cache.delete(VOCABULARY_CACHE_KEY)
        connection.close()
        if not args.keep:
            connection.creation.destroy_test_db(original, verbosity=0)
        shutil.rmtree(static_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
