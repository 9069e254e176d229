"""Error reporting (Sentry) and tracing (OpenTelemetry), each off unless its environment
variable switches it on. Neither package is a runtime requirement: each is imported only when
switched on, and a switch set without its package stops the process at start with the command
that installs it (``pip install -r requirements-observability.txt``), rather than running
silently unobserved. See docs/deploy.md.

Nothing personal is sent: no request bodies, cookies, client addresses or local variables;
an event carries the user's id and the request id (core/logs.py), no name or e-mail.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from core import logs

INSTALL_HINT = (
    "pip install -r requirements-observability.txt (the Docker image: build with --build-arg OBSERVABILITY=1)"
)


def _require(module: str, switch: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"{switch} is set but {module} cannot be imported ({error}). {INSTALL_HINT}."
        ) from error


def _before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    context = logs.current()
    tags = event.setdefault("tags", {})
    for name in ("request_id", "program", "task"):
        if context.get(name):
            tags[name] = context[name]
    # The id only, whatever an integration attached.
    event["user"] = {"id": str(context["user_id"])} if context.get("user_id") else {}
    # The method only: a path may hold a sign-in token, a query a name; the transaction (the
    # URL's pattern) says where it happened.
    if isinstance(event.get("request"), dict):
        event["request"] = {"method": event["request"].get("method")}
    return event


def start_sentry(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    """Report unhandled errors of the web processes, workers and beat to ``dsn``."""
    sentry_sdk = _require("sentry_sdk", "SENTRY_DSN")
    django_integration = _require("sentry_sdk.integrations.django", "SENTRY_DSN")
    celery_integration = _require("sentry_sdk.integrations.celery", "SENTRY_DSN")
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=_before_send,
        integrations=[django_integration.DjangoIntegration(), celery_integration.CeleryIntegration()],
    )


def check_tracing_installed() -> None:
    """At settings load, so a switch without its packages fails every process at once."""
    for module in (
        "opentelemetry.sdk.trace",
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "opentelemetry.instrumentation.django",
        "opentelemetry.instrumentation.celery",
        "opentelemetry.instrumentation.psycopg2",
        "opentelemetry.instrumentation.redis",
    ):
        _require(module, "OTEL_ENABLED")


_tracing_started = False


def start_tracing() -> None:
    """Send traces over OTLP/HTTP (the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``,
    ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_TRACES_SAMPLER`` variables
    configure it) for Django, Celery, PostgreSQL and Redis. Called once per process after it
    forks (config/wsgi.py for gunicorn's workers, config/celery.py for Celery's), since the
    exporter's thread does not survive a fork; settings must be loaded, Django's middleware not yet."""
    global _tracing_started
    if _tracing_started:
        return
    _tracing_started = True
    trace = _require("opentelemetry.trace", "OTEL_ENABLED")
    sdk = _require("opentelemetry.sdk.trace", "OTEL_ENABLED")
    export = _require("opentelemetry.sdk.trace.export", "OTEL_ENABLED")
    otlp = _require("opentelemetry.exporter.otlp.proto.http.trace_exporter", "OTEL_ENABLED")
    provider = sdk.TracerProvider()
    provider.add_span_processor(export.BatchSpanProcessor(otlp.OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _require("opentelemetry.instrumentation.django", "OTEL_ENABLED").DjangoInstrumentor().instrument()
    _require("opentelemetry.instrumentation.celery", "OTEL_ENABLED").CeleryInstrumentor().instrument()
    _require("opentelemetry.instrumentation.psycopg2", "OTEL_ENABLED").Psycopg2Instrumentor().instrument(
        skip_dep_check=True
    )
    _require("opentelemetry.instrumentation.redis", "OTEL_ENABLED").RedisInstrumentor().instrument()
