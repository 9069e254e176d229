"""Integration tests: a real Celery worker process, Redis and PostgreSQL.

The tests wait for results with ``disable_sync_subtasks=False``: earlier tests ran
tasks eagerly in this process, which leaves Celery believing it is inside a task and
refusing a blocking ``get()``; here the test really is outside any task.

They run when REDIS_URL is set and the database is PostgreSQL (as in the second
half of .ci/run); otherwise they skip and say why.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from core import locking
from matching.match_runs.services import match_run_create
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    missing = []
    if not settings.REDIS_URL:
        missing.append("REDIS_URL is not set")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing.append("the database is not PostgreSQL (set DATABASE_URL)")
    if not missing:
        return
    skip = pytest.mark.skip(reason="needs real services: " + "; ".join(missing) + " — run `make test-postgres`")
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def celery_worker_process(transactional_db):
    """A `celery worker` subprocess on the test database, stopped after the test."""
    db = settings.DATABASES["default"]
    test_db_url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=db["USER"] or "postgres",
        HOST=db["HOST"] or "127.0.0.1",
        PORT=db["PORT"] or 5432,
        NAME=connection.settings_dict["NAME"],
    )
    env = {
        **os.environ,
        # pytest's own settings module (config/settings_test.py) is not what a worker deploys with.
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": test_db_url,
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "CONN_MAX_AGE": "0",
    }
    from config.celery import app

    app.control.purge()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("celery worker exited early:\n" + proc.stdout.read())
        if app.control.ping(timeout=0.5):
            break
    else:
        proc.kill()
        pytest.fail("celery worker did not answer a ping within 60 s")
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def unlock():
    """``unlock(*models)``, for a control case: ``core.locking`` takes no lock on those models'
    rows (or ``locking.ACCOUNT_CREATION``; every lock, given nothing) for the rest of the test."""
    with ExitStack() as stack:
        yield lambda *what: stack.enter_context(locking.disabled(*what))


@pytest.fixture
def cohort_run():
    """``cohort_run()``: a committed run over 8 residents and 3 mentors (7 spots), stable; its
    on-commit task is published to Redis at once (autocommit)."""
    program = ProgramFactory()
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, program=program, role="coordinator")
    residents, mentors = [], []
    for _ in range(8):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        residents.append(user)
    for capacity in (2, 2, 3):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="faculty")
        MentorProfileFactory(user=user, capacity=capacity)
        mentors.append(user)

    def create():
        return match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[r.pk for r in residents],
            mentor_ids=[m.pk for m in mentors],
        )

    return create


# --- Processes on other services than the shared ones: a private Redis, a web server,
# a worker on a given broker. Each is started by the test and stopped after it.


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_database_url() -> str:
    """The test database, for a server or worker subprocess."""
    db = settings.DATABASES["default"]
    return "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=db["USER"] or "postgres",
        HOST=db["HOST"] or "127.0.0.1",
        PORT=db["PORT"] or 5432,
        NAME=connection.settings_dict["NAME"],
    )


def _wait_until(predicate, *, timeout, proc=None, what="", log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what} exited early:\n" + (log.read_text() if log else ""))
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} not ready within {timeout} s:\n" + (log.read_text() if log else ""))


def _stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PrivateRedis:
    """A redis-server of the test's own on a free port, so it can be stopped and started
    again without touching the shared Redis (which is also the other tests' broker)."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log_dir / f"redis-{self.port}.log"
        self.proc = None

    def ping(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def start(self):
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_until(self.ping, timeout=10, proc=self.proc, what="redis-server", log=self.log)

    def stop(self):
        _stop(self.proc)
        assert not self.ping()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    _stop(server.proc)


def service_env(**overrides) -> dict:
    """The environment of a subprocess on the test database; ``overrides`` win."""
    return {
        **os.environ,
        # pytest's own settings module (config/settings_test.py) is not what servers deploy with.
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        **overrides,
    }


def launch_worker(procs: list, log_dir: Path, **env):
    """A `celery worker` subprocess on the test database and the broker in ``env``
    (REDIS_URL), appended to ``procs`` (the caller stops them) and ready when it returns.
    Ready is read from its log, as the in-process app may point at another broker."""
    log = log_dir / f"worker-{len(procs)}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=service_env(**{"CONN_MAX_AGE": "0", **env}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    procs.append(proc)
    _wait_until(lambda: " ready." in log.read_text(), timeout=60, proc=proc, what="celery worker", log=log)
    proc.log = log
    return proc


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """``start_worker(**env)``: ``launch_worker`` for one test; stopped after it."""
    procs = []
    yield lambda **env: launch_worker(procs, tmp_path, **env)
    for proc in procs:
        _stop(proc, timeout=20)


def launch_web_server(procs: list, log_dir: Path, threads=4, **env) -> str:
    """gunicorn serving the app on a free loopback port, on the test database, appended to
    ``procs`` (the caller stops them); returns its base URL once it answers."""
    import requests

    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--timeout",
                "30",
            ],
            cwd=ROOT,
            env=service_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    procs.append(proc)
    base = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(base + "/accounts/login/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    _wait_until(answers, timeout=30, proc=proc, what="gunicorn", log=log)
    proc.log = log
    return base


@pytest.fixture
def start_web_server(transactional_db, tmp_path):
    """``start_web_server(**env)``: ``launch_web_server`` for one test; stopped after it."""
    procs = []
    yield lambda threads=4, **env: launch_web_server(procs, tmp_path, threads=threads, **env)
    for proc in procs:
        _stop(proc)


def signed_in_session(user, base_url):
    """A requests.Session signed in as ``user``: the session row is made in-process (the
    server reads the same database) and its cookie handed over. It sends a CSRF cookie and
    the same secret in the X-CSRFToken header (Django accepts an unmasked secret)."""
    import requests
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    secret = "b2" * 16
    session.cookies.set(settings.CSRF_COOKIE_NAME, secret)
    session.headers["X-CSRFToken"] = secret
    return session
