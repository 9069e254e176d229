"""A real worker e-mails a committed notification through Redis, exactly once."""

import time

import pytest

from matching.models import Notification
from matching.notifications import notify
from matching.tasks import send_notification_email
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for_email(notification, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.emailed_at is not None:
            return True
        time.sleep(0.2)
    return False


def test_worker_emails_a_committed_notification_once(celery_worker_process):
    from config.celery import app

    assert not app.conf.task_always_eager, "tasks must go through Redis here"
    user = UserFactory(email="notify-check@hospital.example")

    # Autocommit (no surrounding transaction): on_commit enqueues at once.
    notification = notify(
        event="request.new",
        user=user,
        title="Someone asked you to mentor them",
        url="/requests/1/",
        dedup_key="integration:notification:1",
    )

    assert _wait_for_email(notification), "the worker did not e-mail the notification within 30 s"
    # A second delivery of the same task finds the row claimed.
    assert send_notification_email.delay(notification.pk).get(timeout=60, disable_sync_subtasks=False) is False
    assert Notification.objects.filter(user=user).count() == 1
