"""``make fuzz-api``: the schemathesis CLI against a live server, as hospital IT's tools would meet it.

The in-process fuzzing in ``make test`` (tests/security/test_api_fuzz.py) runs schemathesis' checks
on a few examples an operation; it has no coverage phase (every boundary of every parameter) and no
stateful phase (links between operations: create a busy block, then read, change and delete it).
This serves the demo's data on a throwaway SQLite database, takes API tokens for the demo resident
and coordinator, and runs ``schemathesis run --phases coverage,fuzzing,stateful`` with every check (``--checks all``)
against ``/api/schema/`` as each of them. It exits non-zero if either run reports a failure.

    python -m tests.contract.fuzz_api [--port 8000] [--max-examples 10] [--database-url …] [-- schemathesis args]

Reports (JUnit XML and a pytest file reproducing each failure) go to artifacts/fuzz-api/<role>/.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "fuzz-api"
DEMO_DOMAIN = "demo.mentormatch.org"  # demo/people.py
DEMO_PASSWORD = "mentormatch-demo"  # demo/people.py: published, as the demo's login table says
DEMO_PROGRAM = "im"  # demo/people.py
ROLES = {"resident": f"resident@{DEMO_DOMAIN}", "coordinator": f"coordinator@{DEMO_DOMAIN}"}

# Operations that would end the run's own session: the token presented, any of the caller's tokens
# (the list links to them, so the stateful phase finds the run's own), or the coordinator's seat.
# Each is covered in-process by tests/security/test_api_fuzz.py, which signs in per example.
EXCLUDED = [
    "auth_token_destroy",  # DELETE /api/v1/auth/token/
    "auth_tokens_destroy",  # DELETE /api/v1/auth/tokens/{id}/
    "programs_coordinators_destroy",  # DELETE /api/v1/programs/{slug}/coordinators/{id}/
]


# The in-process fuzzing's excuses (tests/security/test_api_fuzz.py, EXCUSED: rules a schema cannot
# state) hold here too, plus these, met only by the CLI's phases (coverage tries every boundary, the
# stateful phase acts on what it created), each skipping one check for one operation:
#   LENIENT: a JSON body's scalar of another type that Django REST framework converts to the declared
#     one (5 for a string, 1 for a boolean, "3" for an integer): docs/api.md says why it is accepted.
#   RULE: a rule the schema cannot state, as in EXCUSED.
LENIENT = "negative_data_rejection"
RULE = "positive_data_acceptance"
CLI_EXCUSED = {
    # A block imported from a calendar is removed with its calendar, not alone: 400.
    ("DELETE", "/api/v1/me/busy-blocks/{id}/"): RULE,
    # A calendar imported from a file has nothing to fetch again: 400.
    ("POST", "/api/v1/me/busy-calendars/{id}/refresh/"): RULE,
    ("PATCH", "/api/v1/me/"): LENIENT,  # "last_name": 0
    ("POST", "/api/v1/programs/{slug}/conflicts/{id}/remove/"): LENIENT,  # "reason": 0
    ("POST", "/api/v1/programs/{slug}/evaluator-roles/{id}/remove/"): LENIENT,
    ("POST", "/api/v1/programs/{slug}/pairing-exceptions/{id}/remove/"): LENIENT,
}


def _config(path: Path) -> Path:
    """A schemathesis.toml that skips, per operation, the one check each excuse names."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()  # the fuzz test's module imports the services it seeds with
    from tests.security.test_api_fuzz import EXCUSED

    excused = {(method, route): RULE for method, route in EXCUSED} | CLI_EXCUSED
    lines = [
        "# Written by tests/contract/fuzz_api.py: every check runs, but these, each for one operation.",
        "",
        "# The demo's internal medicine program, where the demo coordinator works: a random slug is a 404.",
        "[parameters]",
        f'"path.slug" = "{DEMO_PROGRAM}"',
        "",
    ]
    for (method, route), check in sorted(excused.items()):
        lines += [
            "[[operations]]",
            f'include-path = "{route}"',
            f'include-method = "{method}"',
            f"checks.{check}.enabled = false",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def _environment(port: int, database: str) -> dict[str, str]:
    """The demo's environment (Makefile's DEMO_ENV) on a database of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_DEBUG="true",
        MFA_REQUIRED_FOR_SUPERUSERS="false",
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database,
    )
    return env


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310  (our own server on 127.0.0.1)
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise SystemExit(f"The server did not answer {url} within {seconds:.0f} s.") from None
            time.sleep(0.5)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _token(base: str, email: str) -> str:
    request = urllib.request.Request(  # noqa: S310  (our own server on 127.0.0.1)
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": DEMO_PASSWORD, "name": "make fuzz-api"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)["token"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-examples", type=int, default=10, help="Per operation and phase.")
    parser.add_argument("--seed", type=int, default=20261205)
    # One at a time on SQLite: two writes at once are "database is locked" (a 500), which says
    # nothing about the API. On PostgreSQL (--database-url) more workers are fine.
    parser.add_argument("--workers", default="1")
    parser.add_argument(
        "--database-url",
        help="An empty database to fill with the demo (PostgreSQL: createdb first); default: a new SQLite file.",
    )
    parser.add_argument("--roles", default=",".join(ROLES), help="Comma-separated: resident, coordinator.")
    parser.add_argument("extra", nargs="*", help="More schemathesis arguments (after --).")
    args = parser.parse_args()

    python = sys.executable
    base = f"http://127.0.0.1:{args.port}"
    if not _port_is_free(args.port):  # else the run would fuzz whatever answers there
        raise SystemExit(f"Something already listens on port {args.port}: stop it, or pass PORT=…")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    env = _environment(args.port, args.database_url or f"sqlite:///{ARTIFACTS / 'db.sqlite3'}")
    config = _config(ARTIFACTS / "schemathesis.toml")

    started = time.monotonic()
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log = (ARTIFACTS / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [python, "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    failed = []
    try:
        _wait_for(f"{base}/api/schema/?format=json")
        if server.poll() is not None:
            raise SystemExit(f"The server stopped: see {log.name}")
        for role in args.roles.split(","):
            token = _token(base, ROLES[role])
            report = ARTIFACTS / role
            command = [
                str(Path(python).with_name("schemathesis")),
                "--config-file",
                str(config),
                "run",
                f"{base}/api/schema/?format=json",
                # No --checks: it would override the excuses per operation in the config file. Every
                # check runs without it (schemathesis' default, the same set as --checks all).
                "--phases",
                "coverage,fuzzing,stateful",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--workers",
                args.workers,
                "--header",
                f"Authorization: Token {token}",
                "--report",
                "junit,pytest",
                "--report-dir",
                str(report),
                "--no-color",
                *(f"--exclude-operation-id={operation}" for operation in EXCLUDED),
                *args.extra,
            ]
            print(f"\n=== schemathesis as the demo {role} ({ROLES[role]}) ===", flush=True)
            began = time.monotonic()
            if subprocess.run(command, cwd=ROOT).returncode != 0:  # noqa: S603
                failed.append(role)
            print(f"=== {role}: {time.monotonic() - began:.0f} s ===", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    print(f"\nfuzz-api: {time.monotonic() - started:.0f} s in all; reports in {ARTIFACTS.relative_to(ROOT)}/")
    if failed:
        print(f"fuzz-api: failures as {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
