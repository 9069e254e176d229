"""Enqueueing background work after a commit, by task name, surviving a broker outage.

Work is enqueued by the task's dotted name (``enqueue_on_commit("matching.tasks.run_match",
run.pk)``), as zulip's ``queue_event_on_commit`` does: a service never imports a tasks
module, so tasks (which call services) and services (which enqueue tasks) form no cycle.

Every task enqueued from a state change has its work recorded in the database first
(an un-e-mailed notification, a queued match run, an invitation not yet sent), and a
periodic sweeper enqueues it again. So when the broker is down at commit time the
change stands; the request only learns that its background work is delayed, and
``ProcessingDelayedMiddleware`` tells the person.
"""

from __future__ import annotations

import logging
import smtplib
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, NoReturn

from django.db import transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)

# What a publish raises when the broker cannot be reached (Celery wraps most of them
# in kombu's OperationalError). A task that runs eagerly and fails raises its own error,
# which is not one of these.
BROKER_ERRORS = (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError)

# None outside a request (a worker, a command); False/True inside one (the middleware).
_processing_delayed: ContextVar[bool | None] = ContextVar("processing_delayed", default=None)


def task_named(name: str) -> Task:
    """The Celery task at the dotted path ``name`` (its module is imported on first use).
    An unknown name raises ImportError at once, in the service that names it."""
    task: Task = import_string(name)
    return task


def enqueue(task: Task | str, *args: Any) -> bool:
    """``task.delay(*args)`` (``task``: a task or its dotted name); on a broker error, log it, note that processing is delayed
    for this request, and return False (the sweeper will enqueue the work again).

    Within a request that already found the broker down, later enqueues do not try
    again: a roster import inviting hundreds would otherwise wait out the connect
    timeout and retries for each of them."""
    if isinstance(task, str):
        task = task_named(task)
    delayed = _processing_delayed.get()
    if delayed:
        logger.info("Broker unreachable earlier in this request: %s%r left to the sweeper", task.name, args)
        return False
    try:
        task.delay(*args)
    except BROKER_ERRORS:
        logger.warning("Broker unreachable: %s%r left to the sweeper", task.name, args, exc_info=True)
        if delayed is not None:
            _processing_delayed.set(True)
        return False
    return True


def enqueue_on_commit(task: Task | str, *args: Any) -> None:
    """Enqueue ``task`` (a dotted task name, or a task) once the current transaction
    commits (at once outside one). The name is resolved now, so a wrong one fails the
    caller; after the commit nothing may turn the response into a 500 (robust)."""
    if isinstance(task, str):
        task = task_named(task)
    transaction.on_commit(lambda: enqueue(task, *args), robust=True)


def processing_delayed() -> bool:
    return bool(_processing_delayed.get())


def processing_delayed_reset() -> Token[bool | None]:
    """Start a request with nothing delayed; returns the token to restore afterwards.
    (A server thread keeps its context between requests.)"""
    return _processing_delayed.set(False)


def processing_delayed_restore(token: Token[bool | None]) -> None:
    _processing_delayed.reset(token)


# --- E-mail senders (notifications, invitations): an outbox row is marked sent only after
# its e-mail went out. A send that fails for a reason that may pass (the mail server down,
# slow or greylisting) is retried by its task with growing delays; after the last retry the
# row is still unsent and the sweeper's next pass enqueues it again.

EMAIL_SEND_ERRORS = (smtplib.SMTPException, OSError)
EMAIL_RETRIES = 4
EMAIL_RETRY_DELAYS = (60, 300, 900, 3600)  # seconds before retry 1, 2, 3, 4


class EmailNotSent(Exception):
    """What a failed send is retried and finally logged as. It names the outbox row and the
    kind of error only: SMTP errors quote the recipients, and no log line may carry an
    e-mail address. (So call ``email_retry`` outside the ``except`` block: a chained
    traceback would print the original error.)"""


def email_retry(task: Task, *, error: str, what: str) -> NoReturn:
    """Inside ``task`` (bound, ``max_retries=EMAIL_RETRIES``): schedule the next attempt
    after a send failed with ``error`` (an exception's class name); raises Celery's Retry,
    or ``EmailNotSent`` once the retries are spent."""
    delay = EMAIL_RETRY_DELAYS[min(task.request.retries, len(EMAIL_RETRY_DELAYS) - 1)]
    raise task.retry(exc=EmailNotSent(f"{what}: {error}"), countdown=delay)
