"""The Celery app. Without REDIS_URL, settings make every task run eagerly in-process."""

import logging
import os

from celery import Celery, signals
from celery.schedules import crontab

from core import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mentormatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # JSON only: a task takes ids and plain values, never pickled objects.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # Acknowledge after the task finishes so a crashed worker's task is redelivered;
    # tasks are written to be idempotent for that reason.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Time limits set once here: a soft limit the task can catch, then a hard kill.
    task_soft_time_limit=300,
    task_time_limit=360,
    result_expires=24 * 3600,
    broker_connection_retry_on_startup=True,
    # Redis re-delivers unacknowledged tasks after this; longer than any task runs, since a
    # task still running past it would be delivered twice. Tests shorten it to see a dead
    # worker's task restored.
    broker_transport_options={"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600))},
)
# A dead Redis is found out within the connect timeout, not the OS's (core/outbox.py).
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "socket_connect_timeout": app.conf.redis_socket_connect_timeout,
    "socket_timeout": app.conf.redis_socket_timeout,
}
app.autodiscover_tasks()
# core is no Django app, so autodiscovery skips it: the worker heartbeat lives there.
app.conf.imports = ("core.health",)


@signals.setup_logging.connect(weak=False)
def keep_django_logging(loglevel: int | str | None = None, **kwargs: object) -> None:
    """Logging is Django's (LOGGING in settings: JSON lines in production); Celery must not replace
    the root logger's handlers with its own format, which it does unless this signal has a
    receiver. Its ``-l``/``--loglevel`` still sets the level, as operators expect."""
    if loglevel:
        logging.getLogger().setLevel(loglevel)


# The request id (and user id, program) of the request that enqueued a task, on its log lines.
signals.before_task_publish.connect(logs.stamp_published_task, weak=False)
signals.task_prerun.connect(logs.restore_in_task, weak=False)
signals.task_postrun.connect(logs.forget_task, weak=False)


@signals.worker_process_init.connect
@signals.beat_init.connect
def start_tracing(**kwargs: object) -> None:
    """In each pool process after the fork (the exporter's thread does not survive one)."""
    from django.conf import settings

    if settings.OTEL_ENABLED:
        from core import observability

        observability.start_tracing()


# The one beat schedule. Crontabs are read in the app's time zone (CELERY_TIMEZONE =
# TIME_ZONE). Every periodic task scans the database and claims rows, so a late,
# repeated or overlapping run is harmless; ``expires`` drops runs that queued up
# behind a stopped worker rather than running them all at once.
HOUR = 3600
app.conf.beat_schedule = {
    "expire-requests": {
        "task": "matching.tasks.expire_requests",
        "schedule": crontab(minute=5),
        "options": {"expires": HOUR},
    },
    "remind-requests": {
        "task": "matching.tasks.remind_requests",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    "remind-meetings-tomorrow": {
        "task": "matching.tasks.remind_meetings_tomorrow",
        "schedule": crontab(minute=20),
        "options": {"expires": HOUR},
    },
    "prompt-checkins": {
        "task": "matching.tasks.prompt_checkins",
        "schedule": crontab(hour=9, minute=30),
        "options": {"expires": 12 * HOUR},
    },
    "send-daily-digests": {
        "task": "matching.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 12 * HOUR},
    },
    # Hourly: each coordinator's weekly digest goes out on Monday from 07:00 in their own time zone.
    "send-coordinator-digests": {
        "task": "matching.tasks.send_coordinator_digests",
        "schedule": crontab(minute=10),
        "options": {"expires": HOUR},
    },
    # Re-enqueues notification e-mails whose on-commit task never reached the broker.
    "email-unsent-notifications": {
        "task": "matching.tasks.email_unsent_notifications",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 15 * 60},
    },
    # Busy blocks imported from a calendar address (a rotation schedule) are fetched again daily.
    "refresh-busy-calendars": {
        "task": "accounts.tasks.refresh_busy_calendars",
        "schedule": crontab(hour=4, minute=40),
        "options": {"expires": 12 * HOUR},
    },
    # Re-enqueues invitations whose on-commit task never reached the broker.
    "send-unsent-invitations": {
        "task": "accounts.tasks.send_unsent_invitations",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 15 * 60},
    },
    # Large roster imports are their own outbox: re-enqueues lost ones, fails those that never finish.
    "sweep-roster-imports": {
        "task": "accounts.tasks.sweep_roster_imports",
        "schedule": crontab(minute="*/10"),
        "options": {"expires": 10 * 60},
    },
    # Match runs are their own outbox: re-enqueues lost runs, starts them when the ranking
    # window closes, and fails runs whose worker was killed.
    "sweep-match-runs": {
        "task": "matching.tasks.sweep_match_runs",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 5 * 60},
    },
    # Every minute a worker notes that it ran: the readiness probe reports the worker from it
    # (core/health.py). A beat that stops shows there too.
    "worker-heartbeat": {
        "task": "core.health.heartbeat",
        "schedule": crontab(),
        "options": {"expires": 60},
    },
}
