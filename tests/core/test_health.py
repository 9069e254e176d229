"""The probes a load balancer asks: liveness always answers; readiness answers 503 and names the
component when the database, the cache or the broker is down. Each is brought down by pointing
its setting at a port nothing listens on (port 1), or, for the database, by making every new
connection fail as a server that is down does."""

import time

import pytest
from django.db import OperationalError, connections
from django.urls import reverse

from core import health

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _fresh_answers(settings):
    """Each test checks afresh: no answer reused from another test."""
    settings.HEALTH_CACHE_SECONDS = 0
    health.forget_last_answer()
    yield
    health.forget_last_answer()


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }


@pytest.fixture
def broker_down(settings):
    settings.CELERY_BROKER_URL = DEAD_REDIS
    settings.REDIS_CONNECT_TIMEOUT = 0.2


@pytest.fixture
def database_down(monkeypatch):
    """Every new connection is refused; the probe opens its own (it runs on a thread of its own)."""

    def refused(self, conn_params):
        raise OperationalError('connection to server at "10.0.0.5", port 5432 failed: Connection refused')

    monkeypatch.setattr(type(connections["default"]), "get_new_connection", refused)


def ready(client):
    return client.get(reverse("health-ready"))


@pytest.mark.django_db
class TestReadiness:
    def test_everything_up_is_ready(self, client):
        response = ready(client)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "broker": "ok", "worker": "ok"},
        }
        assert response["Content-Type"] == "application/json"
        assert "no-store" in response["Cache-Control"]

    def test_a_dead_database_is_named(self, client, database_down):
        response = ready(client)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "unavailable"
        assert body["checks"]["cache"] == "ok"
        # The reason goes to the log, not to whoever asks: no host, no error text.
        assert b"10.0.0.5" not in response.content and b"refused" not in response.content

    def test_a_dead_cache_is_named(self, client, cache_down):
        response = ready(client)
        assert response.status_code == 503
        assert response.json()["checks"]["cache"] == "unavailable"
        assert response.json()["checks"]["database"] == "ok"

    def test_a_dead_broker_is_named(self, client, broker_down):
        response = ready(client)
        assert response.status_code == 503
        assert response.json()["checks"]["broker"] == "unavailable"
        assert response.json()["checks"]["database"] == "ok"

    def test_unapplied_migrations_are_not_ready(self, client, monkeypatch):
        monkeypatch.setattr(
            health.MigrationExecutor, "migration_plan", lambda self, targets: [("accounts", "9999_future")]
        )
        response = ready(client)
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"] == "unavailable"

    def test_the_failing_component_is_logged_with_its_reason(self, client, broker_down, caplog):
        ready(client)
        assert any(r.name == "core.health" and "broker is unavailable" in r.getMessage() for r in caplog.records), (
            caplog.text
        )

    def test_no_sign_in_is_asked_and_a_signed_in_person_gets_the_same(self, client_for, resident):
        response = ready(client_for(resident))
        assert response.status_code == 200
        assert set(response.json()) == {"status", "checks"}

    def test_a_flood_of_probes_checks_once(self, client, settings, monkeypatch):
        settings.HEALTH_CACHE_SECONDS = 60
        calls = []
        original = health.readiness_checks
        monkeypatch.setattr(health, "readiness_checks", lambda: calls.append(1) or original())
        for _ in range(5):
            assert ready(client).status_code == 200
        assert len(calls) == 1
        settings.HEALTH_CACHE_SECONDS = 0  # control: without reuse every probe checks
        ready(client)
        assert len(calls) == 2


@pytest.mark.django_db
class TestWorkerHeartbeat:
    """With a broker (tasks not in-process), the worker is reported from its heartbeat; a worker
    not seen is ``degraded``, still 200: the web serves without workers."""

    @pytest.fixture(autouse=True)
    def _with_a_broker(self, settings):
        settings.CELERY_TASK_ALWAYS_EAGER = False

    def test_no_heartbeat_is_degraded_not_unavailable(self, client):
        from django.core.cache import cache

        cache.delete(health.HEARTBEAT_KEY)
        response = ready(client)
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert response.json()["checks"]["worker"] == "degraded"

    def test_a_recent_heartbeat_is_ok(self, client):
        health.heartbeat()
        response = ready(client)
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "broker": "ok", "worker": "ok"},
        }

    def test_an_old_heartbeat_is_degraded(self, client, settings):
        from django.core.cache import cache

        cache.set(health.HEARTBEAT_KEY, time.time() - settings.HEALTH_WORKER_STALE_SECONDS - 5)
        assert ready(client).json()["checks"]["worker"] == "degraded"

    def test_beat_sends_the_heartbeat_every_minute(self):
        from config.celery import app

        entry = app.conf.beat_schedule["worker-heartbeat"]
        assert entry["task"] == health.heartbeat.name
        assert entry["schedule"].minute == set(range(60)) and entry["schedule"].hour == set(range(24))
        assert health.heartbeat.name in app.tasks


class TestLiveness:
    """No database, cache or broker is asked: a dependency down must not restart the web."""

    @pytest.mark.django_db
    def test_it_answers_with_everything_down(self, client, database_down, cache_down, broker_down):
        assert ready(client).status_code == 503  # control: the dependencies are down
        response = client.get(reverse("health-live"))
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-store" in response["Cache-Control"]

    def test_it_needs_no_database_at_all(self, client):
        # No django_db mark: pytest-django refuses any query this test would make.
        response = client.get(reverse("health-live"))
        assert response.status_code == 200

    def test_it_is_not_redirected_to_https(self, client, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_REDIRECT_EXEMPT = [r"^healthz/"]
        assert client.get(reverse("health-live")).status_code == 200
        assert client.get("/accounts/login/").status_code == 301  # control: the rest is redirected

    def test_the_probes_write_no_access_line(self, client, caplog):
        caplog.set_level("INFO", logger="mentormatch.request")
        client.get(reverse("health-live"))
        client.get("/no-such-page/")  # control: other requests do
        assert [r.getMessage() for r in caplog.records if r.name == "mentormatch.request"] == ["GET (unrouted) 404"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["health-live", "health-ready"])
def test_a_balancer_may_ask_with_head_and_may_not_post(client, name):
    assert client.head(reverse(name)).status_code == 200
    assert client.post(reverse(name)).status_code == 405
