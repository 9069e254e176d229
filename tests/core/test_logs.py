"""A request's id on every log line of it (JSON in production), on the tasks it enqueues and on
the e-mails they send; the user's id and the program where known, nothing personal."""

import io
import json
import logging

import pytest
from celery import signals
from django.core import mail
from django.urls import reverse
from kombu import Producer

from core import health, logs
from core.email import send_email
from matching.models import Notification
from matching.tasks import send_notification_email

MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."
INCOMING_ID = "lb-7f3a9c2e-41d0-4c55-9a0e-3b1f2d6c8e90"


@pytest.fixture
def json_lines():
    """What production's handler (settings.LOGGING with LOG_FORMAT=json) writes, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def access_lines(lines):
    return [line for line in lines if line["logger"] == "mentormatch.request"]


@pytest.mark.django_db
class TestRequestId:
    def test_a_request_logs_json_with_its_id_and_returns_it(self, client, json_lines):
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=INCOMING_ID)
        assert response.status_code == 200
        assert response["X-Request-ID"] == INCOMING_ID
        [line] = access_lines(json_lines())
        assert line["request_id"] == INCOMING_ID
        assert line["level"] == "INFO"
        assert line["method"] == "GET" and line["status"] == 200 and line["route"] == "/accounts/login/"
        assert "time" in line and "duration_ms" in line

    def test_every_line_of_the_request_carries_the_id(self, client, json_lines, settings):
        # Readiness logs why a component is down, inside the request: here the broker.
        settings.CELERY_BROKER_URL, settings.REDIS_CONNECT_TIMEOUT = "redis://127.0.0.1:1/0", 0.2
        settings.HEALTH_CACHE_SECONDS = 0
        health.forget_last_answer()
        response = client.get(reverse("health-ready"), HTTP_X_REQUEST_ID=INCOMING_ID)
        assert response.status_code == 503
        inner = [line for line in json_lines() if line["logger"] == "core.health"]
        assert inner and {line["request_id"] for line in inner} == {INCOMING_ID}
        assert inner[0]["message"].startswith("Readiness: broker is unavailable")
        health.forget_last_answer()

    @pytest.mark.parametrize(
        "incoming",
        ["", "short", "x" * 200, "id with spaces", "abc123456\r\nX-Injected: yes", "ünïcode-123456"],
        ids=["empty", "too-short", "too-long", "spaces", "header-injection", "non-ascii"],
    )
    def test_an_unsafe_incoming_id_is_replaced(self, client, incoming):
        response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)
        assert response["X-Request-ID"] != incoming
        assert len(response["X-Request-ID"]) == 32 and int(response["X-Request-ID"], 16) >= 0

    def test_without_one_each_request_gets_its_own(self, client):
        first, second = client.get("/accounts/login/"), client.get("/accounts/login/")
        assert first["X-Request-ID"] != second["X-Request-ID"]

    def test_the_line_names_the_user_id_and_program_never_the_person(self, client_for, coordinator, json_lines):
        response = client_for(coordinator).get(reverse("matching:pairings", args=["im"]))
        assert response.status_code == 200
        [line] = access_lines(json_lines())
        assert line["user_id"] == coordinator.pk and line["program"] == "im"
        assert line["route"] == "/programs/<slug:slug>/pairings/"
        text = json.dumps(line)
        assert coordinator.email not in text and coordinator.last_name not in text

    def test_the_line_gives_the_route_not_the_path_nor_the_query(self, client, json_lines):
        token_path = reverse("accounts:password_reset_confirm", args=["MQ", "set-password-token"])
        client.get(token_path + "?email=alice@hospital.example")
        [line] = access_lines(json_lines())
        assert "set-password-token" not in json.dumps(line) and "alice" not in json.dumps(line)
        assert "<token>" in line["route"]

    def test_outside_a_request_lines_carry_no_id(self, json_lines):
        logging.getLogger("matching.anything").warning("from a command")
        [line] = [line for line in json_lines() if line["logger"] == "matching.anything"]
        assert "request_id" not in line


@pytest.fixture
def published(monkeypatch, settings):
    """Tasks are published (not run in-process) and each message's headers kept; nothing is sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    messages = []

    def keep(sender=None, headers=None, **kwargs):
        messages.append((sender, dict(headers)))

    signals.before_task_publish.connect(keep, weak=False)
    monkeypatch.setattr(Producer, "publish", lambda self, *args, **kwargs: None)
    yield messages
    signals.before_task_publish.disconnect(keep)


# Transactional: the enqueue runs on commit, inside the request, as in production (a test's
# wrapping transaction would hold it until after the response).
@pytest.mark.django_db(transaction=True)
class TestTasks:
    def test_a_task_enqueued_in_a_request_carries_its_ids_to_the_worker(
        self, client_for, resident, attending, published
    ):
        response = client_for(resident).post(
            reverse("matching:request-create", args=[attending.pk]),
            {"kind": "research", "message": MESSAGE},
            HTTP_X_REQUEST_ID=INCOMING_ID,
        )
        assert response.status_code == 302
        [(name, headers)] = [(n, h) for n, h in published if n == send_notification_email.name]
        assert headers[logs.TASK_HEADER] == {"request_id": INCOMING_ID, "user_id": resident.pk}
        assert mail.outbox == []  # published, not run

        # The worker: a fresh process, outside any request, runs the message it received.
        notification = Notification.objects.get(user=attending)
        assert logs.current() == {}
        send_notification_email.apply(args=[notification.pk], headers=headers)
        [email] = mail.outbox
        assert email.extra_headers["X-Request-ID"] == INCOMING_ID
        assert logs.current() == {}  # the task's context ends with it

    def test_a_task_no_request_enqueued_is_known_by_its_task_id(self):
        def during(task_id=None, task=None, **kwargs):
            seen.append(logs.current())

        seen = []
        signals.task_prerun.connect(during, weak=False)
        try:
            result = health.heartbeat.apply()
        finally:
            signals.task_prerun.disconnect(during)
        assert seen[0]["request_id"] == result.id and seen[0]["task"] == health.heartbeat.name

    def test_a_forged_header_is_not_trusted(self):
        forged = {"request_id": "abc123456\r\nBcc: everyone@example.org", "user_id": "1", "program": "<script>"}
        assert logs.from_task_headers(forged) == {}
        assert logs.from_task_headers("not a mapping") == {}
        good = {"request_id": INCOMING_ID, "user_id": 7, "program": "im"}
        assert logs.from_task_headers(good) == good

    def test_a_task_run_in_process_keeps_the_requests_id(self, client_for, resident, attending, mailoutbox):
        response = client_for(resident).post(
            reverse("matching:request-create", args=[attending.pk]),
            {"kind": "research", "message": MESSAGE},
        )
        assert response.status_code == 302
        [email] = mailoutbox
        assert email.extra_headers["X-Request-ID"] == response["X-Request-ID"]


class TestEmail:
    def test_an_email_sent_in_a_request_or_task_carries_its_id(self, mailoutbox):
        with logs.bound(request_id=INCOMING_ID):
            send_email(subject="s", text="t", html=None, to=["a@example.org"])
        send_email(subject="s", text="t", html=None, to=["a@example.org"])  # control: outside one
        assert mailoutbox[0].extra_headers["X-Request-ID"] == INCOMING_ID
        assert "X-Request-ID" not in mailoutbox[1].extra_headers
        assert mailoutbox[0].message()["X-Request-ID"] == INCOMING_ID


@pytest.mark.django_db
def test_djangos_line_for_a_refused_request_carries_the_id_and_is_written_once(client, json_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=INCOMING_ID)
    assert response.status_code == 404
    django_lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert [(line["message"], line.get("request_id")) for line in django_lines] == [
        ("Not Found: /no-such-page/", INCOMING_ID)
    ]
