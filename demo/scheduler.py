"""The demo's periodic jobs, in-process: ``make demo`` has no broker and no beat (tasks run
eagerly), so without this a ranking window's run would never start, nor would digests or
sweepers run. ``DemoScheduler`` reads the one beat schedule (``config/celery.py``) and runs
each task when its crontab comes due, plus the match-run sweeper every 30 seconds so a run
starts soon after its ranking deadline. ``manage.py demo_serve`` starts it on a daemon
thread beside ``runserver``; it refuses to run outside the embedded demo (debug, eager
tasks), and tests call ``tick`` directly.
"""

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from core.outbox import task_named

logger = logging.getLogger(__name__)

SWEEP_MATCH_RUNS = "matching.tasks.sweep_match_runs"
# How often the demo's sweeper looks for runs whose ranking window has closed.
SWEEP_EVERY = timedelta(seconds=30)
# How often the thread wakes to look at the clock.
TICK_EVERY = 5.0


def _crontab_matches(schedule: crontab, local: datetime) -> bool:
    """Whether ``local`` (a wall-clock minute in the schedule's zone) is one of the crontab's."""
    return (
        local.minute in schedule.minute
        and local.hour in schedule.hour
        and local.isoweekday() % 7 in schedule.day_of_week  # crontab: 0 = Sunday
        and local.day in schedule.day_of_month
        and local.month in schedule.month_of_year
    )


def _run_task(name: str) -> None:
    # Eager in the demo: runs here, now, in this thread.
    task_named(name).delay()


@dataclass
class DemoScheduler:
    """``tick(now)`` runs what is due at ``now`` and returns the task names it ran."""

    schedule: Mapping[str, Mapping[str, Any]]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.CELERY_TIMEZONE or settings.TIME_ZONE))
    run: Callable[[str], None] = _run_task
    sweep_every: timedelta = SWEEP_EVERY
    _fired: dict[str, datetime] = field(default_factory=dict)  # entry -> the minute it last ran
    _last_sweep: datetime | None = None

    def due(self, now: datetime) -> list[str]:
        minute = now.astimezone(self.zone).replace(second=0, microsecond=0)
        names = []
        for entry_name, entry in self.schedule.items():
            schedule = entry["schedule"]
            if entry["task"] == SWEEP_MATCH_RUNS or not isinstance(schedule, crontab):
                continue
            if self._fired.get(entry_name) != minute and _crontab_matches(schedule, minute):
                self._fired[entry_name] = minute
                names.append(entry["task"])
        if self._last_sweep is None or now - self._last_sweep >= self.sweep_every:
            self._last_sweep = now
            names.append(SWEEP_MATCH_RUNS)
        return names

    def tick(self, now: datetime | None = None) -> list[str]:
        ran = []
        for name in self.due(now or timezone.now()):
            try:
                self.run(name)
            except Exception:  # one failing job must not stop the others, nor the thread
                logger.exception("Demo scheduler: %s failed", name)
            else:
                ran.append(name)
        return ran


def check_demo_only() -> None:
    """Refuse outside the embedded demo: production runs Celery beat and workers instead."""
    if not settings.DEBUG or not settings.CELERY_TASK_ALWAYS_EAGER:
        raise RuntimeError(
            "The demo scheduler runs only in the embedded demo (DJANGO_DEBUG=true, no REDIS_URL); "
            "a deployment runs `celery beat` and workers."
        )


def start(scheduler: DemoScheduler, *, every: float = TICK_EVERY) -> threading.Event:
    """Run ``scheduler`` on a daemon thread until the returned event is set (or the process
    ends: Ctrl-C stops runserver and the daemon thread with it)."""
    check_demo_only()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            close_old_connections()
            scheduler.tick()
            connections.close_all()  # this thread's SQLite connection, not held between ticks
            stop.wait(every)

    threading.Thread(target=loop, name="demo-scheduler", daemon=True).start()
    return stop
