"""Liveness and readiness for load balancers and orchestrators (not a program's health:
that is matching/health.py).

- ``/healthz/live/``: the process answers. No database, no cache, no broker: a dependency
  that is down must not get every web process restarted.
- ``/healthz/ready/``: this process can serve: the database, the cache and the Celery broker
  answer, and every migration is applied. 503 names what failed. A Celery worker seen lately
  is reported too, as ``degraded`` with 200, not 503: the web serves without workers (their
  work waits in the outbox, core/outbox.py), and taking every web process out of the load
  balancer because the worker stopped would turn late e-mail into an outage. Alert on it.

The worker is "seen" through a heartbeat: beat schedules ``core.health.heartbeat`` every
minute and a worker writes the time into the cache. That proves beat, the broker and a worker
all work, end to end, at no cost to the probe; a broadcast ``celery inspect ping`` on every
probe would prove only the worker, and make each probe wait for every worker's answer.

Checks run concurrently with django-health-check's runner, each with its own timeout. The
answers hold component names and ``ok``/``unavailable`` only: the reason (a host name, an
error) goes to the log, not to whoever asks. A process reuses its last readiness answer for
``HEALTH_CACHE_SECONDS`` so a flood of probes costs nothing, and once every migration is
applied it stops asking (a running process's code does not change).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import threading
import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"
PROBE_TIMEOUT = datetime.timedelta(seconds=2)


@shared_task(name="core.health.heartbeat")
def heartbeat() -> float:
    """Run by a worker every minute (config/celery.py): the time it last ran."""
    now = time.time()
    # Kept a day: a worker stopped for hours still reads as stopped, not as never seen.
    cache.set(HEARTBEAT_KEY, now, timeout=24 * 3600)
    return now


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers a PING. With no broker (the demo: tasks run in-process)
    there is nothing to reach."""

    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    async def run(self) -> None:
        url = settings.CELERY_BROKER_URL
        if url.startswith("memory://"):
            return
        if not url.startswith(("redis://", "rediss://")):
            raise ServiceUnavailable("Only a Redis broker is checked")
        connect = settings.REDIS_CONNECT_TIMEOUT

        def client() -> RedisClient:
            return RedisClient.from_url(url, socket_connect_timeout=connect, socket_timeout=connect)

        await Redis(client_factory=client).run()


_migrations_applied = False
_migrations_lock = threading.Lock()


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration in the code is applied (the ``migrate`` step has run). Once true it
    stays true for this process."""

    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    # Synchronous, on a worker thread, as the library's own Database check (it runs either kind).
    def run(self) -> None:  # type: ignore[override]
        global _migrations_applied
        if _migrations_applied:
            return
        connection = connections[DEFAULT_DB_ALIAS]
        must_close = connection.connection is None
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        finally:
            # This runs on a worker thread: leave no connection open on it.
            if must_close:
                connection.close()
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migrations not applied")
        with _migrations_lock:
            _migrations_applied = True


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """A worker ran the heartbeat within ``HEALTH_WORKER_STALE_SECONDS``. A warning, never a
    failure (see the module's docstring). With tasks in-process there is no worker to see."""

    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    def run(self) -> None:  # type: ignore[override]
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return
        seen = cache.get(HEARTBEAT_KEY)
        if seen is None:
            raise ServiceWarning("No worker heartbeat seen")
        age = time.time() - float(seen)
        if age > settings.HEALTH_WORKER_STALE_SECONDS:
            raise ServiceWarning(f"Last worker heartbeat {age:.0f} s ago")


def readiness_checks() -> dict[str, HealthCheck]:
    """The components readiness reports, by the name its answer gives them."""
    database = Database()
    database.timeout = PROBE_TIMEOUT  # the library's default is 5 s
    return {
        "database": database,
        "migrations": Migrations(),
        "cache": Cache(timeout=PROBE_TIMEOUT),
        "broker": Broker(),
        "worker": WorkerHeartbeat(),
    }


_last: tuple[float, int, dict[str, Any]] | None = None


def forget_last_answer() -> None:
    """Tests: the next readiness probe checks again."""
    global _last, _migrations_applied
    _last = None
    _migrations_applied = False


class ReadinessView(HealthCheckView):
    """django-health-check's concurrent runner, with our answer: JSON always, 503 (not the
    library's 500) when a component is unavailable, so a balancer reads it as "not ready"."""

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:  # type: ignore[override]
        global _last
        now = time.monotonic()
        if _last is not None and now - _last[0] < settings.HEALTH_CACHE_SECONDS:
            _, status, body = _last
        else:
            status, body = await self.check()
            _last = (now, status, body)
        response = JsonResponse(body, status=status)
        # Not Django's "Service Unavailable" error line on every probe: check() logged what failed.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response

    async def check(self) -> tuple[int, dict[str, Any]]:
        checks = readiness_checks()
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in checks.values()))
        components: dict[str, str] = {}
        for name, result in zip(checks, results, strict=True):
            if result.error is None:
                components[name] = "ok"
            elif isinstance(result.error, ServiceWarning):
                components[name] = "degraded"
            else:
                components[name] = "unavailable"
            if result.error is not None:
                # The library logged the exception; this line names the component.
                logger.warning("Readiness: %s is %s (%s)", name, components[name], result.error)
        if "unavailable" in components.values():
            return 503, {"status": "unavailable", "checks": components}
        if "degraded" in components.values():
            return 200, {"status": "degraded", "checks": components}
        return 200, {"status": "ok", "checks": components}


@require_safe
def liveness(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"status": "ok"})
    add_never_cache_headers(response)
    return response


readiness = ReadinessView.as_view()
