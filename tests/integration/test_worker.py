"""A real worker process sends an invitation through Redis, reading PostgreSQL."""

import pytest
from django.conf import settings

from accounts.models import User
from accounts.tasks import send_invitation

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_sends_the_invitation_of_a_committed_user(celery_worker_process):
    from config.celery import app

    assert not app.conf.task_always_eager, "tasks must go through Redis here"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    user = User.objects.create_user("worker-check@hospital.example", first_name="Wanda", last_name="Worker")
    result = send_invitation.delay(user.pk)
    assert result.get(timeout=60, disable_sync_subtasks=False) is True


def test_worker_sends_nothing_to_someone_who_already_set_a_password(celery_worker_process):
    user = User.objects.create_user(
        "has-password@hospital.example", "a-strong-pass-phrase", first_name="H", last_name="P"
    )
    assert send_invitation.delay(user.pk).get(timeout=60, disable_sync_subtasks=False) is False
