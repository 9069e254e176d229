"""SIGKILL the Celery worker in the middle of a match run (issue 6, failure injection).

Workers here use the prefork pool (one child), started by ``tests/integration/gated_worker.py``:
each attempt claims the run, reports its pool process id and waits at a gate, so the test
kills it at a known point, mid-run, with nothing left to chance. Then, through Redis and on
PostgreSQL: the run is redelivered and finishes once; or, killed on every attempt, it
fails with its reason after ``MATCH_RUN_MAX_ATTEMPTS``.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from audit.models import AuditEntry
from matching.match_runs.execution import MATCH_RUN_MAX_ATTEMPTS, WORKER_STOPPED
from matching.models import MatchProposal, MatchRun, Notification

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
Status = MatchRun.Status


def _wait_for(predicate, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {seconds} s")


def _forget_unacked_messages():
    """Kombu's Redis bookkeeping of delivered, unacknowledged messages (our Redis DB only): a
    message left there by an earlier killed worker would otherwise be restored into this test."""
    from config.celery import app

    app.control.purge()
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def gate(tmp_path):
    path = tmp_path / "gate"
    path.mkdir()
    return path


@pytest.fixture
def start_worker(transactional_db, gate, tmp_path):
    """``start_worker(**env)``: a gated prefork worker on the test database, answering pings.
    Every worker started is SIGKILLed with its pool at the end of the test."""
    from config.celery import app

    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        # pytest's own settings module (config/settings_test.py) is not what a worker deploys with.
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://{}@{}:{}/{}".format(
            db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432, connection.settings_dict["NAME"]
        ),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "CONN_MAX_AGE": "0",
        "MM_GATE_DIR": str(gate),
    }
    _forget_unacked_messages()
    started = []

    def start(**extra_env):
        name = f"gated-{uuid.uuid4().hex[:8]}@%h"
        log = open(tmp_path / f"{name.split('@')[0]}.log", "w")  # noqa: SIM115 (closed at teardown)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.gated_worker",
                "--pool=prefork",
                "--concurrency=1",
                f"--hostname={name}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the whole worker can be killed at once
        )
        started.append((proc, log))
        hostname = name.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail("the worker exited early:\n" + Path(log.name).read_text())
            if app.control.ping(destination=[hostname], timeout=0.5):
                return proc
        pytest.fail("the worker did not answer a ping within 30 s:\n" + Path(log.name).read_text())

    yield start
    for proc, log in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()
    _forget_unacked_messages()


def _holder(gate, run, attempt) -> int:
    """Wait until ``attempt`` has claimed ``run`` and reached the gate; its pool process id."""
    entered = gate / f"entered-{attempt}"
    _wait_for(entered.exists, f"attempt {attempt} reaching the computation")
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.RUNNING, attempt)
    return int(entered.read_text())


def _finished(run):
    def check():
        run.refresh_from_db()
        return run.status in (Status.SUCCEEDED, Status.FAILED)

    return check


def _assert_finished_once(run):
    assert run.status == Status.SUCCEEDED, run.error
    proposals = MatchProposal.objects.filter(run=run)
    assert proposals.count() == 8  # one per resident, the unmatched one included: no duplicates
    assert proposals.values("mentee").distinct().count() == 8
    assert run.stats["matched"] == 7 and run.stats["unmatched"] == 1
    assert AuditEntry.objects.filter(action="match_run.succeed", object_id=str(run.pk)).count() == 1
    assert Notification.objects.filter(event="match_run.succeeded", title__endswith="ready to review").count() == 1


def test_a_run_whose_pool_process_is_killed_is_redelivered_and_finishes_once(start_worker, gate, cohort_run):
    worker = start_worker()
    run = cohort_run()
    first = _holder(gate, run, 1)
    assert first != worker.pid

    os.kill(first, signal.SIGKILL)

    # acks_late + reject_on_worker_lost: the parent gives the message back to Redis and its new
    # pool process receives it again, same task id, which takes the RUNNING run over.
    second = _holder(gate, run, 2)
    assert second != first and worker.poll() is None
    (gate / "release").touch()

    _wait_for(_finished(run), "the run finishing")
    _assert_finished_once(run)
    assert run.attempts == 2


def test_a_run_whose_whole_worker_is_killed_is_finished_by_the_next_worker(start_worker, gate, cohort_run):
    worker = start_worker()
    run = cohort_run()
    _holder(gate, run, 1)

    os.killpg(worker.pid, signal.SIGKILL)  # the parent too: nobody gives the message back
    worker.wait(timeout=10)
    (gate / "release").touch()

    # The message sits unacknowledged in Redis until a worker restores it, once it is older than
    # the visibility timeout (3600 s in production; 1 s here). A worker looks when it starts (and
    # then only every 100 s), so the next one starts once the message is old enough.
    ((_, delivered_at),) = redis.Redis.from_url(settings.REDIS_URL).zrange("unacked_index", 0, -1, withscores=True)
    _wait_for(lambda: time.time() > delivered_at + 1.5, "the message outliving the visibility timeout", seconds=5)
    start_worker(CELERY_VISIBILITY_TIMEOUT="1")
    _wait_for(_finished(run), "the next worker finishing the run")
    _assert_finished_once(run)
    assert run.attempts == 2


def test_a_run_killed_on_every_attempt_fails_with_its_reason(start_worker, gate, cohort_run):
    worker = start_worker()
    run = cohort_run()
    for attempt in range(1, MATCH_RUN_MAX_ATTEMPTS + 1):
        os.kill(_holder(gate, run, attempt), signal.SIGKILL)

    # The next redelivery finds the bound reached and fails the run without computing it.
    _wait_for(_finished(run), "the run failing")
    assert run.status == Status.FAILED and run.error == WORKER_STOPPED
    assert run.attempts == MATCH_RUN_MAX_ATTEMPTS
    assert not (gate / f"entered-{MATCH_RUN_MAX_ATTEMPTS + 1}").exists()
    assert not MatchProposal.objects.filter(run=run).exists()
    assert AuditEntry.objects.filter(action="match_run.fail", object_id=str(run.pk)).count() == 1
    assert Notification.objects.filter(event="match_run.failed", body=WORKER_STOPPED).count() == 1
    assert worker.poll() is None  # the worker itself lives on, its queue no longer blocked by this run
