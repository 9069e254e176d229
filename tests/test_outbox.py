"""Background work across a broker outage: the enqueue helper, the fail-soft cache and
the warning people see. The broker is made unreachable by making ``delay`` raise what
Celery raises then; tests/integration/test_redis_outage.py stops a real Redis."""

import socket
from unittest import mock

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.urls import reverse
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

import core.cache
from accounts.services import SEND_INVITATION
from core import outbox
from core.cache import FailSoftRedisCache
from core.middleware import PROCESSING_DELAYED_HEADER, PROCESSING_DELAYED_MESSAGE
from matching.match_runs.execution import RUN_MATCH
from matching.models import MentorshipRequest, Notification
from matching.notifications import SEND_NOTIFICATION_EMAIL
from matching.tasks import send_notification_email

MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."


@pytest.fixture
def broker_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_notification_email, "delay", unreachable)


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


# --- The cache.


def _dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_redis_location():
    # Bound then closed: nothing listens there, so every connection is refused at once.
    return f"redis://127.0.0.1:{_dead_port()}/0"


OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class TestFailSoftCache:
    def test_control_plain_redis_cache_raises_when_redis_is_down(self, dead_redis_location):
        cache = RedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        with pytest.raises(RedisConnectionError):
            cache.get("key")

    def test_reads_miss_and_writes_do_nothing_when_redis_is_down(self, dead_redis_location):
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        with mock.patch.object(core.cache.logger, "warning") as warning:
            assert cache.get("key") is None
            assert cache.get("key", "fallback") == "fallback"
            assert cache.get_many(["a", "b"]) == {}
            assert cache.has_key("key") is False
            assert cache.add("key", 1) is False
            assert cache.set("key", 1) is None
            assert cache.set_many({"a": 1}) == ["a"]
            assert cache.delete("key") is False
            cache.delete_many(["a"])
        assert [call.args[1] for call in warning.call_args_list] == [
            "get",
            "get",
            "get_many",
            "has_key",
            "add",
            "set",
            "set_many",
            "delete",
            "delete_many",
        ]

    @pytest.mark.parametrize("method", ["add", "set", "touch", "set_many"])
    def test_a_write_without_a_timeout_keeps_the_default_timeout_not_forever(self, method, dead_redis_location):
        # Django reads timeout=None as "never expire"; leaving it out means the configured TIMEOUT.
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS, "TIMEOUT": 60})
        with mock.patch.object(RedisCache, method, autospec=True) as write:
            getattr(cache, method)(
                {"key": 1} if method == "set_many" else "key", *([] if method in ("touch", "set_many") else [1])
            )
        timeout = write.call_args.args[3 if method not in ("touch", "set_many") else 2]
        assert cache.get_backend_timeout(timeout) == 60

    def test_get_or_set_computes_the_value_when_redis_is_down(self, dead_redis_location):
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        calls = []
        assert cache.get_or_set("key", lambda: calls.append(1) or "computed") == "computed"
        assert cache.get_or_set("key", lambda: calls.append(1) or "computed") == "computed"
        assert calls == [1, 1], "nothing was cached, so the value is computed every time"

    def test_throttled_token_endpoint_fails_open_when_redis_is_down(self, settings, dead_redis_location, db):
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.FailSoftRedisCache", "LOCATION": dead_redis_location, "OPTIONS": OPTIONS}
        }
        # ScopedRateThrottle reads the default cache, which now points at the dead Redis.
        response = APIClient().post("/api/v1/auth/token/", {"username": "x@example.org", "password": "nope"})
        assert response.status_code in (400, 401, 403), response.status_code


# --- What the person sees.


@pytest.mark.django_db(transaction=True)
class TestDelayedMessage:
    def test_a_request_sent_while_the_broker_is_down_is_saved_and_says_email_is_delayed(
        self, broker_down, client_for, resident, attending
    ):
        client = client_for(resident)
        response = client.post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
        )
        assert response.status_code == 302
        request = MentorshipRequest.objects.get(mentee=resident, mentor=attending)
        assert request.status == "pending"
        # The notification is the outbox: recorded, not yet e-mailed.
        assert Notification.objects.filter(user=attending, emailed_at__isnull=True).exists()
        assert response[PROCESSING_DELAYED_HEADER] == "true"
        page = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE in [str(m) for m in page.context["messages"]]
        # Shown once; the next request, with the broker still down but nothing enqueued, is clean.
        again = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in again.context["messages"]]
        assert PROCESSING_DELAYED_HEADER not in again

    def test_control_with_the_broker_up_there_is_no_warning(self, client_for, resident, attending, mailoutbox):
        client = client_for(resident)
        response = client.post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
        )
        assert response.status_code == 302 and PROCESSING_DELAYED_HEADER not in response
        assert [m.to for m in mailoutbox] == [[attending.email]]
        page = client.get(response["Location"])
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in page.context["messages"]]

    def test_the_api_answers_with_a_header_and_leaves_no_message(self, broker_down, resident, attending):
        api = APIClient()
        api.force_login(resident)
        response = api.post(
            "/api/v1/requests/", {"mentor": attending.pk, "kind": "research", "message": MESSAGE}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response[PROCESSING_DELAYED_HEADER] == "true"
        assert MentorshipRequest.objects.filter(mentee=resident, mentor=attending).exists()
        page = api.get(reverse("matching:dashboard"))
        assert PROCESSING_DELAYED_MESSAGE not in [str(m) for m in page.context["messages"]]
