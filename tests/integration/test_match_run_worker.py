"""A real worker process runs a cohort match through Redis, on PostgreSQL, end to end:
the run committed QUEUED, the on-commit task claimed by the worker, proposals written."""

import time

import pytest

from matching.models import MatchProposal, MatchRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_a_worker_runs_a_cohort_match_end_to_end(celery_worker_process, cohort_run):
    from config.celery import app

    assert not app.conf.task_always_eager, "the task must go through Redis here"
    run = cohort_run()  # autocommit: on_commit enqueues at once

    def finished():
        run.refresh_from_db()
        return run.status in (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED)

    assert _wait_for(finished), f"the run is still {run.status} after 60 s"
    assert run.status == MatchRun.Status.SUCCEEDED, run.error
    assert run.progress == 100
    assert MatchProposal.objects.filter(run=run).count() == 8
    assert run.stats["matched"] == 7 and run.stats["unmatched"] == 1 and run.stats["blocking_pairs"] == 0

    # A late second delivery (as after a worker crash) finds the run claimed and changes nothing.
    from matching.tasks import run_match

    assert run_match.delay(run.pk).get(timeout=60, disable_sync_subtasks=False) == "not_queued"
    assert MatchProposal.objects.filter(run=run).count() == 8
