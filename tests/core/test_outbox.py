"""The enqueue helper across a broker outage. The broker is made unreachable by making
``delay`` raise what Celery raises then; tests/integration/test_redis_outage.py stops a real Redis."""

from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.services import SEND_INVITATION
from core import outbox
from matching.match_runs.execution import RUN_MATCH
from matching.notifications import SEND_NOTIFICATION_EMAIL


@pytest.fixture
def fresh_request_context():
    token = outbox.processing_delayed_reset()
    yield
    outbox.processing_delayed_restore(token)


# --- The enqueue helper.


class RecordingTask:
    name = "tests.recording"

    def __init__(self, error=None):
        self.calls, self.error = [], error

    def delay(self, *args):
        if self.error:
            raise self.error
        self.calls.append(args)


@pytest.mark.usefixtures("fresh_request_context")
class TestEnqueue:
    def test_a_reachable_broker_gets_the_task_and_nothing_is_delayed(self):
        task = RecordingTask()
        assert outbox.enqueue(task, 7, None) is True
        assert task.calls == [(7, None)] and outbox.processing_delayed() is False

    @pytest.mark.parametrize("error", [OperationalError("refused"), RedisConnectionError("refused")])
    def test_a_broker_error_is_logged_and_marks_processing_delayed(self, error):
        with mock.patch.object(outbox.logger, "warning") as warning:
            assert outbox.enqueue(RecordingTask(error), 7) is False
        assert outbox.processing_delayed() is True
        assert "left to the sweeper" in warning.call_args.args[0]

    def test_once_the_broker_is_down_the_rest_of_the_request_does_not_wait_on_it_again(self):
        down, other = RecordingTask(OperationalError("refused")), RecordingTask()
        assert outbox.enqueue(down, 1) is False
        assert outbox.enqueue(other, 2) is False
        assert other.calls == [], "not tried: the sweeper sends it"

    def test_a_task_failing_eagerly_is_not_mistaken_for_an_outage(self):
        with pytest.raises(ValueError):
            outbox.enqueue(RecordingTask(ValueError("bad template")), 7)
        assert outbox.processing_delayed() is False

    def test_outside_a_request_every_enqueue_tries_the_broker(self):
        token = outbox._processing_delayed.set(None)  # as in a worker or a command
        try:
            assert outbox.enqueue(RecordingTask(OperationalError("refused")), 1) is False
            task = RecordingTask()
            assert outbox.enqueue(task, 2) is True and task.calls == [(2,)]
        finally:
            outbox._processing_delayed.reset(token)

    @pytest.mark.django_db
    def test_on_commit_waits_for_the_commit(self, django_capture_on_commit_callbacks):
        task = RecordingTask()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                outbox.enqueue_on_commit(task, 1)
                assert task.calls == []
        assert len(callbacks) == 1 and task.calls == [(1,)]

    @pytest.mark.django_db
    def test_a_rolled_back_change_enqueues_nothing(self, django_capture_on_commit_callbacks):
        task = RecordingTask()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with transaction.atomic():
                outbox.enqueue_on_commit(task, 1)
                transaction.set_rollback(True)
        assert callbacks == [] and task.calls == []

    @pytest.mark.parametrize(
        "name", [SEND_INVITATION, RUN_MATCH, SEND_NOTIFICATION_EMAIL], ids=lambda name: name.rsplit(".", 1)[1]
    )
    def test_a_task_enqueued_by_name_is_the_registered_task_of_that_name(self, name):
        assert outbox.task_named(name).name == name

    @pytest.mark.django_db
    def test_an_unknown_task_name_fails_the_caller_before_the_commit(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ImportError):
            outbox.enqueue_on_commit("matching.tasks.no_such_task", 1)
        assert callbacks == []
