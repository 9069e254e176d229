"""Roster previews against reading the same file: ``python -m benchmarks.roster_bench`` (``make bench-roster``).

A guard for issue 11's finding 6, as a benchmark rather than a timed test: a 2 MB file of
invalid rows used to be parsed again on every view of its preview until gunicorn killed
the worker. Each row of the table times one thing the coordinator's browser waits for and,
in the same run, a named reference: Python's ``csv.reader`` reading the whole file into
rows, the least any preview must do. The ratio says how much more than reading the file a
preview costs; it should stay a small constant, and the attack's file should cost less than
reading it (the import stops at ``ROSTER_MAX_ROWS``).

It runs on the database DATABASE_URL names (SQLite by default), in Django's throwaway test
database, so nothing of yours is touched.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys

HEADER = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n"


def valid_file(rows: int, tag: str = "") -> bytes:
    """``rows`` new people (every fifth a faculty member in Internal Medicine), all valid. ``tag``
    makes the addresses differ from another file's (``benchmarks.page_writes`` imports a new file
    each time, so that each import adds everyone)."""
    return (
        HEADER
        + "".join(
            f"bench.resident{tag}{i}@hospital.example,Res,Ident{i},resident,PGY-{1 + i % 7},,,\n"
            if i % 5
            else f"bench.faculty{tag}{i}@hospital.example,Fac,Ulty{i},faculty,,Internal Medicine,Professor,"
            "America/Chicago\n"
            for i in range(rows)
        )
    ).encode()


def _files(rows: int) -> dict[str, bytes]:
    header = HEADER
    # The attack: 2 MB of rows that are all wrong (no address, an unknown role).
    line = ",,,nurse,,,,\n"
    attack = header + line * ((2 * 1024 * 1024 - len(header)) // len(line))
    return {"valid": valid_file(rows), "attack": attack.encode()}


def _read_all(data: bytes) -> int:
    """The reference: decode the file and read every row, nothing checked."""
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.roster_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="people in the valid file (default 5,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from accounts.models import Institution, Membership, Program, RosterImport, Specialty, User
    from accounts.roster import roster_import_plan, roster_import_preview

    from .common import throwaway_database
    from .engine_bench import timed

    files = _files(args.rows)
    with throwaway_database():
        program = Program.objects.create(
            name="Bench Medicine",
            slug="bench",
            institution=Institution.objects.get_or_create(name="Bench Hospital", defaults={"slug": "bench-hospital"})[
                0
            ],
            specialty=Specialty.objects.get(slug="internal-medicine"),
        )
        coordinator = User.objects.create_user("bench.coordinator@hospital.example", "bench-coordinator-pw")
        Membership.objects.create(user=coordinator, program=program, role=Membership.Role.COORDINATOR)

        def upload(name):
            def run():
                kept = roster_import_preview(
                    program=program, uploaded_by=coordinator, filename=f"{name}.csv", data=files[name]
                )
                RosterImport.objects.filter(pk=kept.pk).delete()
                return kept.row_count

            return run

        kept = {
            name: roster_import_preview(program=program, uploaded_by=coordinator, filename=f"{name}.csv", data=data)
            for name, data in files.items()
        }

        def view(name):
            return lambda: len(roster_import_plan(RosterImport.objects.get(pk=kept[name].pk)).rows)

        cases = [
            (f"upload and preview {args.rows:,} people", upload("valid"), files["valid"]),
            (f"view the kept preview of {args.rows:,} people", view("valid"), files["valid"]),
            ("upload 2 MB of invalid rows (the attack)", upload("attack"), files["attack"]),
            ("view the kept preview of the attack", view("attack"), files["attack"]),
        ]
        print("| what | ours (s) | reference: csv.reader over the file (s) | ours / reference |")
        print("|---|---:|---:|---:|")
        for label, ours, data in cases:
            (ours_s, _), (ref_s, _) = timed(ours, lambda data=data: _read_all(data), repeat=args.repeat)
            print(f"| {label} | {ours_s:.3f} | {ref_s:.3f} | {ours_s / ref_s:.1f}× |", flush=True)
        print(
            f"\nFiles: {len(files['valid']) / 1024:.0f} KB valid, {len(files['attack']) / 1024:.0f} KB of invalid rows. "
            f"Medians of at least {args.repeat} runs, ours and the reference taking turns."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
