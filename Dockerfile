# MentorMatch: one image for the web server, the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies before the code, so a code change reuses this layer. Sentry and OpenTelemetry
# (switched on by SENTRY_DSN, OTEL_ENABLED) only with --build-arg OBSERVABILITY=1.
ARG OBSERVABILITY=0
# Exactly the locked versions, each checked against its hash (make lock writes the locks).
COPY requirements.lock requirements-observability.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock \
    && if [ "$OBSERVABILITY" = "1" ]; then pip install --require-hashes --no-deps -r requirements-observability.lock; fi

COPY . .

# Static files are baked into the image and served by WhiteNoise. The settings refuse
# to load without a SECRET_KEY when debug is off; this one exists only for this step.
RUN DJANGO_DEBUG=false SECRET_KEY=collectstatic-at-build-time-only-not-a-secret \
    python manage.py collectstatic --noinput

# Run as an unprivileged user; the code and static files stay owned by root, read-only to it.
RUN useradd --system --create-home --uid 10001 mentormatch
USER mentormatch

EXPOSE 8000
# Workers come from WEB_CONCURRENCY (gunicorn reads it). No gunicorn access log: the app writes
# one JSON line per request, with its id and route (core/middleware.py), and never the path.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
