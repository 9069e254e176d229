"""Celery tasks of the matching app. Thin: they take ids (or nothing), call a
service, and return a count. Every one is safe to run twice: a re-delivered task
(acks_late) or an overlapping beat run finds its rows already claimed.

The periodic ones are scheduled in ``config/celery.py`` (``beat_schedule``).
"""

from celery import shared_task
from django.db import OperationalError

from core.outbox import EMAIL_RETRIES, EMAIL_SEND_ERRORS, email_retry, enqueue

from . import notifications, periodic
from .match_runs import execution
from .services import nudges as nudge_services
from .services import requests as request_services


@shared_task(bind=True, max_retries=EMAIL_RETRIES)
def send_notification_email(self, notification_id: int) -> bool:
    """E-mail one notification. The service leases the row and marks it e-mailed only once
    the send succeeded, so a second delivery finds nothing to do, and a send that failed
    is retried here with growing delays (then left to the sweeper)."""
    try:
        return notifications.notification_email_send(notification_id=notification_id)
    except EMAIL_SEND_ERRORS as exc:
        error = type(exc).__name__
    email_retry(self, error=error, what=f"notification {notification_id}")


@shared_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """A batch from ``notify_many`` (a publish, a readiness reminder): leased, sent and marked
    e-mailed together (``notifications.notification_emails_send``); one whose send failed goes
    to ``send_notification_email``, with its own lease and retries. A publish queues this once
    instead of two thousand tasks from the coordinator's request. Safe to run twice: a
    notification already e-mailed (or being e-mailed) is not leased again; one left unqueued
    (the broker down mid-way) stays un-emailed for the sweeper."""
    sent, one_by_one = notifications.notification_emails_send(notification_ids=notification_ids)
    for notification_id in one_by_one:
        enqueue(send_notification_email, notification_id)
    return sent


# --- Periodic: each scans the database and claims what it handles.


@shared_task
def expire_requests() -> int:
    return request_services.requests_expire()


@shared_task
def remind_requests() -> int:
    return request_services.requests_remind()


@shared_task
def remind_meetings_tomorrow() -> int:
    return periodic.meetings_remind_tomorrow()


@shared_task
def prompt_checkins() -> int:
    return periodic.checkins_prompt_monthly()


@shared_task
def send_daily_digests() -> int:
    return notifications.digests_send()


@shared_task
def email_unsent_notifications() -> int:
    return notifications.notifications_email_unsent()


@shared_task
def send_coordinator_digests() -> int:
    """Hourly; each coordinator's weekly digest goes out on their Monday morning, once."""
    return nudge_services.coordinator_digests_send()


# --- Cohort match runs (the claim/compute/fail/sweep protocol is matching/match_runs/execution.py).


# Every delivery that claims the run counts one attempt, a retry included (a retry is a new
# message with the same task id), so the retries end when the attempts do.
@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    max_retries=execution.MATCH_RUN_MAX_ATTEMPTS - 1,
    retry_backoff=5,
    retry_jitter=False,
)
def run_match(self, run_id: int) -> str:
    """Compute one match run. ``match_run_execute`` claims the run first: another delivery
    returns "not_queued", while this task's own message redelivered after its worker was
    killed takes the claim over. A database outage is retried, and after the last attempt
    the run stays failed with its reason."""
    return execution.match_run_execute(
        run_id, task_id=self.request.id or "", final_attempt=self.request.retries >= self.max_retries
    )


@shared_task
def sweep_match_runs() -> dict:
    return execution.match_runs_sweep()
