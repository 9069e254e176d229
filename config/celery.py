"""The Celery app. Without REDIS_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery

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
    # Redis re-delivers unacknowledged tasks after this; longer than any task runs.
    broker_transport_options={"visibility_timeout": 3600},
)
app.autodiscover_tasks()
