"""The demo's in-process scheduler: the beat schedule's jobs when their crontab comes due,
the match-run sweeper every 30 s, so a ranking window's run starts in `make demo` too."""

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app
from demo.scheduler import SWEEP_MATCH_RUNS, DemoScheduler, check_demo_only
from matching.match_runs.services import match_run_create
from matching.models import MatchRun

SCHEDULE = {
    "every-quarter-hour": {"task": "t.quarter", "schedule": crontab(minute="*/15")},
    "daily-at-8": {"task": "t.daily", "schedule": crontab(hour=8, minute=0)},
    "sweep-match-runs": {"task": SWEEP_MATCH_RUNS, "schedule": crontab(minute="*/5")},
}


def _scheduler(ran):
    return DemoScheduler(SCHEDULE, zone=UTC, run=ran.append)


def test_each_job_runs_once_in_its_minute_and_the_sweeper_every_30_seconds():
    ran: list[str] = []
    scheduler = _scheduler(ran)
    start = datetime(2026, 12, 7, 7, 59, 50, tzinfo=UTC)

    assert scheduler.tick(start) == [SWEEP_MATCH_RUNS]
    assert scheduler.tick(start + timedelta(seconds=5)) == []  # nothing due 5 s later
    # 08:00: the quarter-hour and the daily job, once each however often the thread wakes.
    assert scheduler.tick(start + timedelta(seconds=15)) == ["t.quarter", "t.daily"]
    assert scheduler.tick(start + timedelta(seconds=20)) == []
    assert scheduler.tick(start + timedelta(seconds=40)) == [SWEEP_MATCH_RUNS]
    assert scheduler.tick(start + timedelta(minutes=15, seconds=10)) == ["t.quarter", SWEEP_MATCH_RUNS]
    assert ran.count("t.daily") == 1


def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    def run(name):
        if name == "t.quarter":
            raise RuntimeError("boom")

    scheduler = DemoScheduler(SCHEDULE, zone=UTC, run=run)
    assert scheduler.tick(datetime(2026, 12, 7, 8, 0, tzinfo=UTC)) == ["t.daily", SWEEP_MATCH_RUNS]
    assert "t.quarter failed" in caplog.text


def test_the_real_beat_schedule_is_read():
    ran: list[str] = []
    scheduler = DemoScheduler(app.conf.beat_schedule, run=ran.append)
    scheduler.tick(datetime(2026, 12, 7, 12, 15, tzinfo=UTC))  # Monday, a quarter past
    assert SWEEP_MATCH_RUNS in ran and "matching.tasks.email_unsent_notifications" in ran


@pytest.mark.django_db
def test_the_sweeper_starts_a_run_whose_window_has_closed(coordinator, program, resident, attending):
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[resident.pk],
        mentor_ids=[attending.pk],
        ranking_deadline=timezone.now() + timedelta(hours=1),
    )
    scheduler = DemoScheduler(app.conf.beat_schedule)  # runs the real tasks, in process
    scheduler.tick(timezone.now())
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.QUEUED  # the window is open

    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    scheduler.tick(timezone.now() + timedelta(seconds=31))
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.SUCCEEDED


def test_it_refuses_to_run_outside_the_demo(settings):
    settings.DEBUG = False
    with pytest.raises(RuntimeError, match="only in the embedded demo"):
        check_demo_only()
    with pytest.raises(CommandError, match="only in the embedded demo"):
        call_command("demo_serve", "127.0.0.1:8999", "--noreload")
    settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER = True, False  # a broker: beat runs the jobs
    with pytest.raises(RuntimeError):
        check_demo_only()
