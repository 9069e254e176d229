"""Claiming a match run: a message redelivered after its worker died takes the run over,
every claim counts one attempt, and a run that keeps dying fails after a bounded number.

A worker death is simulated by ``WorkerKilled``, a BaseException: like SIGKILL it escapes
every ``except Exception`` of the service, so nothing records it and the run stays RUNNING.
The broker's redelivery is ``run_match.apply(..., task_id=<the same id>)``.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from audit.models import AuditEntry
from matching import engine
from matching.match_runs import execution
from matching.match_runs.execution import MATCH_RUN_MAX_ATTEMPTS, WORKER_STOPPED, match_runs_sweep
from matching.match_runs.services import (
    match_run_cancel,
)
from matching.models import MatchProposal, MatchRun, Notification
from matching.tasks import run_match
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _create

pytestmark = pytest.mark.django_db

Status = MatchRun.Status


class WorkerKilled(BaseException):
    pass


@pytest.fixture
def run(coordinator, program, cohort):
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


# --- Running, retrying, sweeping and reporting.


def _assignment(run):
    return {p.mentee_id: p.final_mentor_id for p in run.proposals.all()}


# --- Running a match.


def test_a_run_proposes_a_mentor_or_a_reason_for_every_resident(start_run, cohort):
    residents, mentors = cohort
    run = start_run()

    assert run.status == Status.SUCCEEDED and run.progress == 100 and run.error == ""
    assert run.started_at <= run.finished_at
    proposals = list(run.proposals.all())
    assert sorted(p.mentee_id for p in proposals) == sorted(r.pk for r in residents)
    capacity = {m.pk: m.mentor_profile.capacity for m in mentors}
    for mentor_id, spots in capacity.items():
        assert sum(p.mentor_id == mentor_id for p in proposals) <= spots
    matched = [p for p in proposals if p.mentor_id]
    unmatched = [p for p in proposals if not p.mentor_id]
    assert len(matched) == 5 and len(unmatched) == 1
    for p in matched:
        assert p.score is not None and p.rank_obtained >= 1
        assert {c["name"] for c in p.explanation["components"]} == set(engine.COMPONENTS)
        assert all(c["reason"] for c in p.explanation["components"])
    # The review speaks about the resident; the resident is told in their own words once published.
    assert unmatched[0].why_not.startswith(
        "there were 5 places for 6 residents; every mentor the resident could be paired with filled their spots"
    )
    assert unmatched[0].why_not_for_mentee.startswith(
        "there were 5 places for 6 residents; every mentor you could be paired with filled their spots"
    )
    goals = [c["reason"] for p in matched for c in p.explanation["components"] if c["name"] == "goals"]
    assert goals and all(reason.startswith("the resident's one goal") for reason in goals), goals
    assert run.stats["matched"] == 5 and run.stats["unmatched"] == 1
    assert run.stats["blocking_pairs"] == 0
    assert run.stats["mentor_load"][str(mentors[2].pk)] == {"assigned": 1, "capacity": 1}
    assert set(run.stats["seconds"]) == {"load", "score", "solve", "write"}


def test_the_goal_each_mentor_covers_decides_the_pairs(start_run, cohort):
    (alice, bob, femi, gita, hugo, ines), (carol, dave, erin) = cohort
    assignment = _assignment(start_run())
    assert assignment[alice.pk] == carol.pk and assignment[bob.pk] == carol.pk
    assert assignment[femi.pk] == dave.pk and assignment[gita.pk] == dave.pk
    # Erin's one spot: Hugo and Ines fit her equally, and ties go to the lower id.
    assert assignment[hugo.pk] == erin.pk and assignment[ines.pk] is None


def test_optimal_mode_matches_as_many_as_there_are_spots(start_run):
    run = start_run(algorithm="optimal")
    assert run.status == Status.SUCCEEDED
    assert run.stats["matched"] == 5 and run.stats["worst_score"] is not None


def test_a_second_delivery_of_the_task_does_nothing(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)  # on-commit callbacks do not run here: the task is ours to call

    assert run_match(run.pk) == "succeeded"
    first = list(MatchProposal.objects.filter(run=run).values_list("pk", "mentee_id", "mentor_id"))
    assert run_match(run.pk) == "not_queued"

    assert list(MatchProposal.objects.filter(run=run).values_list("pk", "mentee_id", "mentor_id")) == first
    assert len(first) == 6


def test_a_failure_is_recorded_with_its_reason(coordinator, program, cohort, monkeypatch):
    def broken(instance, mode):
        raise ValueError("mentor 'x': negative capacity -1")

    monkeypatch.setattr(engine, "solve", broken)
    run = _create(coordinator, program, *cohort)

    assert run_match(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == Status.FAILED and run.finished_at is not None
    assert run.error == "The match could not be computed: mentor 'x': negative capacity -1"
    assert not run.proposals.exists()


def test_database_errors_are_retried_then_the_run_stays_failed(coordinator, program, cohort, monkeypatch):
    def flaky(instance, mode):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "solve", flaky)
    run = _create(coordinator, program, *cohort)
    # Each retry claims the run again, so the retries run out exactly when its attempts do.
    assert OperationalError in run_match.autoretry_for
    assert run_match.max_retries == execution.MATCH_RUN_MAX_ATTEMPTS - 1 == 2

    # An attempt with retries left puts the run back in the queue for the retry to claim …
    with pytest.raises(OperationalError):
        execution.match_run_execute(run.pk, final_attempt=False)
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.attempts == 1

    # … and the task's last retry leaves it failed with the reason.
    with pytest.raises(OperationalError):
        run_match.apply(args=[run.pk], retries=run_match.max_retries, throw=True)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "database was unavailable" in run.error and "server closed the connection" in run.error


def test_a_run_waits_while_another_of_the_program_is_running(coordinator, program, cohort):
    MatchRun.objects.create(program=program, status=Status.RUNNING, started_at=timezone.now())
    run = _create(coordinator, program, *cohort)

    assert run_match(run.pk) == "busy"
    run.refresh_from_db()
    assert run.status == Status.QUEUED


@pytest.mark.parametrize("ending", ["fails", "is_cancelled"])
def test_a_run_found_busy_starts_as_soon_as_the_running_one_ends(
    ending, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    running = MatchRun.objects.create(
        program=program, status=Status.RUNNING, started_at=timezone.now(), attempts=1, claimed_by_task="task-1"
    )
    waiting = _create(coordinator, program, *cohort)  # its on-commit delivery is not run here
    assert run_match(waiting.pk) == "busy"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if ending == "fails":
            execution._fail(running.pk, 1, "The engine gave up.")
        else:
            match_run_cancel(run=running, actor=coordinator)

    assert callbacks, "the end of the running run enqueues the waiting one"
    waiting.refresh_from_db()
    assert waiting.status == Status.SUCCEEDED and waiting.attempts == 1


def test_the_database_refuses_a_second_running_run_for_a_program(program, other_program):
    MatchRun.objects.create(program=program, status=Status.RUNNING)
    MatchRun.objects.create(program=other_program, status=Status.RUNNING)  # another program: fine
    MatchRun.objects.create(program=program, status=Status.QUEUED)  # queued beside it: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchRun.objects.create(program=program, status=Status.RUNNING)


def test_residents_paired_for_the_kind_while_the_run_waits_are_left_out(
    coordinator, cohort, program, django_capture_on_commit_callbacks
):
    (alice, *_), (carol, dave, _erin) = cohort
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = _create(coordinator, program, *cohort)
    assert run.mentees.filter(pk=alice.pk).exists()
    # Paired by Dave (a request accepted) after the run was made, before it ran.
    MentorshipFactory(mentee=alice, mentor=dave, program=program, kind="career")
    for callback in callbacks:
        callback()
    run.refresh_from_db()

    assert not run.proposals.filter(mentee=alice).exists()
    assert run.proposals.count() == 5
    assert run.stats["left_out"] == {str(alice.pk): "already has an active mentorship of this kind"}
    # Dave's active mentorship takes one of his two spots.
    assert run.stats["mentor_load"][str(dave.pk)]["capacity"] == 1


# --- The sweeper.


def test_the_sweeper_enqueues_a_run_lost_between_commit_and_broker(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)  # its on-commit task never ran

    assert match_runs_sweep(now=run.created_at + timedelta(minutes=1)) == {"requeued": 0, "failed": 0}
    assert match_runs_sweep(now=run.created_at + timedelta(minutes=3)) == {"requeued": 1, "failed": 0}

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED and run.proposals.count() == 6


def test_the_sweeper_starts_a_run_once_its_ranking_window_closes(ranking_run):
    assert match_runs_sweep(now=timezone.now() + timedelta(days=1))["requeued"] == 0
    MatchRun.objects.filter(pk=ranking_run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    assert match_runs_sweep()["requeued"] == 1
    ranking_run.refresh_from_db()
    assert ranking_run.status == Status.SUCCEEDED


def test_the_sweeper_fails_a_run_whose_worker_stopped_on_its_last_attempt(program):
    now = timezone.now()
    stale = MatchRun.objects.create(
        program=program,
        status=Status.RUNNING,
        started_at=now - timedelta(minutes=7),
        attempts=execution.MATCH_RUN_MAX_ATTEMPTS,
        claimed_by_task="task-1",
    )
    fresh_program_run = MatchRun.objects.create(program=program, status=Status.SUCCEEDED)

    assert match_runs_sweep(now=now) == {"requeued": 0, "failed": 1}

    stale.refresh_from_db()
    assert stale.status == Status.FAILED and stale.error == WORKER_STOPPED
    fresh_program_run.refresh_from_db()
    assert fresh_program_run.status == Status.SUCCEEDED


def test_the_sweeper_leaves_a_run_that_is_still_within_the_time_limit(program):
    now = timezone.now()
    running = MatchRun.objects.create(program=program, status=Status.RUNNING, started_at=now - timedelta(minutes=2))
    assert match_runs_sweep(now=now)["failed"] == 0
    running.refresh_from_db()
    assert running.status == Status.RUNNING


def test_the_beat_schedule_sweeps_match_runs():
    from config.celery import app

    assert app.conf.beat_schedule["sweep-match-runs"]["task"] == "matching.tasks.sweep_match_runs"
    assert execution.LOST_AFTER == timedelta(minutes=2)


def test_the_coordinator_who_started_a_run_hears_when_it_is_ready(start_run, coordinator):
    run = start_run()

    note = Notification.objects.get(event="match_run.succeeded")
    assert note.user == coordinator
    assert note.url == run.get_absolute_url()
    assert "ready to review" in note.title and "5 matched, 1 unmatched" in note.body
    # Nobody else hears of an unpublished run.
    assert Notification.objects.exclude(user=coordinator).count() == 0


def test_the_coordinator_hears_when_a_run_fails_with_the_reason(coordinator, program, cohort, monkeypatch):
    monkeypatch.setattr(engine, "solve", lambda instance, mode: (_ for _ in ()).throw(ValueError("bad capacity")))
    run = _create(coordinator, program, *cohort)
    run_match(run.pk)
    run_match(run.pk)  # a second delivery tells nobody again

    note = Notification.objects.get(event="match_run.failed")
    assert note.user == coordinator and "failed" in note.title
    assert note.body == "The match could not be computed: bad capacity"


def test_a_run_whose_worker_stopped_is_reported_to_the_programs_coordinators(program, coordinator):
    MatchRun.objects.create(
        program=program,
        status=Status.RUNNING,
        started_at=timezone.now() - timedelta(minutes=7),
        attempts=execution.MATCH_RUN_MAX_ATTEMPTS,
    )

    match_runs_sweep()

    note = Notification.objects.get(event="match_run.failed")
    assert note.user == coordinator and note.body == WORKER_STOPPED
