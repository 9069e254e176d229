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
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

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
        USER=db["USER"] or "postgres", HOST=db["HOST"] or "127.0.0.1", PORT=db["PORT"] or 5432, NAME=connection.settings_dict["NAME"]
    )
    env = {
        **os.environ,
        "DATABASE_URL": test_db_url,
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "CONN_MAX_AGE": "0",
    }
    from config.celery import app

    app.control.purge()
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
