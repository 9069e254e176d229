"""Claiming a match run: a message redelivered after its worker died takes the run over,
every claim counts one attempt, and a run that keeps dying fails after a bounded number.

A worker death is simulated by ``WorkerKilled``, a BaseException: like SIGKILL it escapes
every ``except Exception`` of the service, so nothing records it and the run stays RUNNING.
The broker's redelivery is ``run_match.apply(..., task_id=<the same id>)``.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from django.utils import timezone

from audit.models import AuditEntry
from matching import engine
from matching.match_runs import execution
from matching.match_runs.execution import MATCH_RUN_MAX_ATTEMPTS, WORKER_STOPPED, match_runs_sweep
from matching.models import MatchProposal, MatchRun, Notification
from matching.tasks import run_match
from tests.matching.test_match_runs import _create, cohort  # noqa: F401  (six residents × three mentors, five spots)

pytestmark = pytest.mark.django_db

Status = MatchRun.Status


class WorkerKilled(BaseException):
    pass


@pytest.fixture
def run(coordinator, program, cohort):  # noqa: F811
    return _create(coordinator, program, *cohort)  # on-commit callbacks do not run: deliveries are ours to make


@pytest.fixture
def dies_while_computing(monkeypatch):
    """Until ``revive()`` is called, every attempt's worker dies after claiming the run."""
    real = execution._compute

    def killed(run_id, attempt):
        raise WorkerKilled

    monkeypatch.setattr(execution, "_compute", killed)
    return SimpleNamespace(revive=lambda: monkeypatch.setattr(execution, "_compute", real))


def deliver(run, task_id):
    return run_match.apply(args=[run.pk], task_id=task_id, throw=True).get()


def test_the_redelivered_message_of_a_dead_worker_takes_the_run_over_and_finishes_it(run, dies_while_computing):
    with pytest.raises(WorkerKilled):
        deliver(run, "task-1")
    run.refresh_from_db()
    assert (run.status, run.attempts, run.claimed_by_task) == (Status.RUNNING, 1, "task-1")

    dies_while_computing.revive()  # the next attempt runs normally
    assert deliver(run, "task-1") == "succeeded"

    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.SUCCEEDED, 2)
    assert MatchProposal.objects.filter(run=run).count() == 6
    assert AuditEntry.objects.filter(action="match_run.succeed", object_id=str(run.pk)).count() == 1
    assert Notification.objects.filter(event="match_run.succeeded").count() == 1


def test_another_delivery_leaves_a_running_run_to_its_holder(run, dies_while_computing):
    with pytest.raises(WorkerKilled):
        deliver(run, "task-1")

    # Control for the test above: a different task id (a sweep's enqueue, a double click) is not a redelivery.
    assert deliver(run, "task-2") == "not_queued"
    # A direct call has no task id at all and can only ever claim a QUEUED run.
    assert execution.match_run_execute(run.pk) == "not_queued"

    run.refresh_from_db()
    assert (run.status, run.attempts, run.claimed_by_task) == (Status.RUNNING, 1, "task-1")


def test_a_run_whose_worker_keeps_dying_fails_after_the_last_attempt(run, dies_while_computing, coordinator):
    for attempt in range(1, MATCH_RUN_MAX_ATTEMPTS + 1):
        with pytest.raises(WorkerKilled):
            deliver(run, "task-1")
        run.refresh_from_db()
        assert (run.status, run.attempts) == (Status.RUNNING, attempt)

    assert deliver(run, "task-1") == "failed"  # computes nothing: the claim itself gives up

    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.FAILED, MATCH_RUN_MAX_ATTEMPTS)
    assert run.error == WORKER_STOPPED and "3 times" in run.error and run.finished_at is not None
    assert not MatchProposal.objects.filter(run=run).exists()
    assert AuditEntry.objects.filter(action="match_run.fail", object_id=str(run.pk)).count() == 1
    note = Notification.objects.get(event="match_run.failed")
    assert note.user == coordinator and note.body == WORKER_STOPPED

    # Once failed, yet another redelivery changes and tells nothing.
    assert deliver(run, "task-1") == "not_queued"
    assert Notification.objects.filter(event="match_run.failed").count() == 1


def test_a_superseded_attempt_records_neither_progress_nor_a_result(run):
    # Attempt 1's worker is presumed dead and its message taken over by attempt 2, but it
    # was only slow: when it finishes, its result must not land beside attempt 2's.
    assert execution._claim(run.pk, task_id="task-1", now=timezone.now()) == 1
    assert execution._claim(run.pk, task_id="task-1", now=timezone.now()) == 2

    assert execution._compute(run.pk, 1) == "not_queued"
    run.refresh_from_db()
    assert (run.status, run.progress) == (Status.RUNNING, 0)
    assert not MatchProposal.objects.filter(run=run).exists()

    assert execution._compute(run.pk, 2) == "succeeded"  # control: the holder's result lands
    assert MatchProposal.objects.filter(run=run).count() == 6


def test_proposals_left_from_an_earlier_attempt_are_replaced_not_added_to(run, dies_while_computing):
    with pytest.raises(WorkerKilled):
        deliver(run, "task-1")
    run.refresh_from_db()
    stray = MatchProposal.objects.create(run=run, mentee=run.mentees.first(), mentor=None, score=0)

    dies_while_computing.revive()
    assert deliver(run, "task-1") == "succeeded"

    assert MatchProposal.objects.filter(run=run).count() == 6
    assert not MatchProposal.objects.filter(pk=stray.pk).exists()


def test_database_error_retries_count_as_attempts(run, monkeypatch):
    def flaky(instance, mode):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "solve", flaky)
    for attempt in range(1, MATCH_RUN_MAX_ATTEMPTS):
        with pytest.raises(OperationalError):
            execution.match_run_execute(run.pk, task_id="task-1", final_attempt=False)
        run.refresh_from_db()
        assert (run.status, run.attempts) == (Status.QUEUED, attempt)

    # The task would retry once more, but the bound is reached: this attempt is the last.
    with pytest.raises(OperationalError):
        execution.match_run_execute(run.pk, task_id="task-1", final_attempt=False)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.FAILED, MATCH_RUN_MAX_ATTEMPTS)
    assert "database was unavailable" in run.error


def test_a_busy_program_does_not_use_up_an_attempt(run, program):
    MatchRun.objects.create(program=program, status=Status.RUNNING, started_at=timezone.now())

    assert deliver(run, "task-1") == "busy"
    run.refresh_from_db()
    assert (run.status, run.attempts, run.claimed_by_task) == (Status.QUEUED, 0, "")


# --- The sweeper: a run whose worker died with its message.


def _stalled(run, attempts):
    started = timezone.now() - timedelta(minutes=7)  # past the task's hard time limit (6 min)
    MatchRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, attempts=attempts, claimed_by_task="task-1", started_at=started, progress=40
    )


def test_the_sweeper_restarts_a_stalled_run_that_has_attempts_left(run, django_capture_on_commit_callbacks):
    _stalled(run, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):  # the run is enqueued once it is back in the queue
        assert match_runs_sweep() == {"requeued": 1, "failed": 0}

    run.refresh_from_db()
    assert (run.status, run.attempts) == (Status.SUCCEEDED, 2)
    assert MatchProposal.objects.filter(run=run).count() == 6


def test_the_restarted_run_is_queued_without_its_dead_claim(run):
    _stalled(run, attempts=MATCH_RUN_MAX_ATTEMPTS - 1)

    assert match_runs_sweep() == {"requeued": 1, "failed": 0}  # its enqueue waits for a commit that never comes here

    run.refresh_from_db()
    assert (run.status, run.claimed_by_task, run.started_at, run.progress) == (Status.QUEUED, "", None, 0)
    # The dead worker's own message, if the broker still restores it, claims it like any delivery:
    # the last attempt allowed.
    assert deliver(run, "task-1") == "succeeded"
    run.refresh_from_db()
    assert run.attempts == MATCH_RUN_MAX_ATTEMPTS


def test_the_sweeper_fails_a_stalled_run_on_its_last_attempt(run):
    _stalled(run, attempts=MATCH_RUN_MAX_ATTEMPTS)

    assert match_runs_sweep() == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert (run.status, run.error) == (Status.FAILED, WORKER_STOPPED)
    assert match_runs_sweep() == {"requeued": 0, "failed": 0}
