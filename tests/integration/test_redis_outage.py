"""Redis stops: pages still work, changes still commit and say their background work is
delayed, and that work goes out once Redis is back (the database rows are the outbox,
the sweepers enqueue them again).

The app runs as a real server (gunicorn) and worker on a private redis-server, which the
test stops and starts; the shared Redis, the other tests' broker, is never touched. A
subprocess rather than this process: this process's Celery app keeps connection and
producer pools to the broker it was configured with at import.
"""

import subprocess
import sys
import time

import pytest
from django.urls import reverse

from accounts.services import api_token_issue
from core.middleware import PROCESSING_DELAYED_HEADER, PROCESSING_DELAYED_MESSAGE
from matching.models import MatchRun, MentorshipRequest, Notification

from .conftest import ROOT, service_env, signed_in_session

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A request on a dead broker and cache waits out connect timeouts and a short publish
# retry (well under a second each); this bounds the whole request.
PAGE_BUDGET = 5.0
MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."


def _wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def _sweep(env):
    """The two sweepers, as beat would run them once their grace periods have passed."""
    code = (
        "from datetime import timedelta; from django.utils import timezone;"
        "from matching.notifications import notifications_email_unsent;"
        "from matching.match_runs.execution import match_runs_sweep;"
        "later = timezone.now() + timedelta(minutes=15);"
        "print('notifications', notifications_email_unsent(now=later));"
        "print('runs', match_runs_sweep(now=later))"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=service_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_redis_down_pages_work_changes_commit_and_the_work_goes_out_when_it_is_back(
    private_redis,
    start_web_server,
    start_worker,
    program,
    resident,
    attending,
    other_attending,
    coordinator,
):
    # The console e-mail backend: what the worker sends is in its log.
    env = {"REDIS_URL": private_redis.url, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    base = start_web_server(**env)
    web = signed_in_session(resident, base)
    api = signed_in_session(coordinator, base)
    api.headers["Authorization"] = f"Token {api_token_issue(user=coordinator)[1]}"
    # Before the outage: the server's cache and broker connections exist and are now stale.
    assert web.get(base + reverse("matching:mentor-directory"), timeout=10).status_code == 200

    private_redis.stop()

    for path in (
        reverse("matching:dashboard"),
        reverse("matching:mentor-directory"),  # the resident's recommendations, with cached vocabulary names
        "/api/v1/me/recommendations/",
    ):
        response, seconds = _timed(lambda path=path: web.get(base + path, timeout=10))
        assert response.status_code == 200, (path, response.status_code)
        assert seconds < PAGE_BUDGET, (path, seconds)

    # A page's change commits, and the next page says its e-mail is delayed.
    response, seconds = _timed(
        lambda: web.post(
            base + reverse("matching:request-create", args=[attending.pk]),
            {"kind": "research", "message": MESSAGE},
            allow_redirects=False,
            timeout=10,
        )
    )
    assert response.status_code == 302 and seconds < PAGE_BUDGET, (response.status_code, seconds)
    assert response.headers[PROCESSING_DELAYED_HEADER] == "true"
    request = MentorshipRequest.objects.get(mentee=resident, mentor=attending)
    notification = Notification.objects.get(user=attending)
    assert request.status == "pending" and notification.emailed_at is None
    page = web.get(base + response.headers["Location"], timeout=10)
    assert page.status_code == 200 and PROCESSING_DELAYED_MESSAGE in page.text

    # An API change commits, and its answer carries the header.
    residents = [resident.pk]
    response, seconds = _timed(
        lambda: api.post(
            base + f"/api/v1/programs/{program.slug}/match-runs/",
            json={"kind": "career", "algorithm": "stable", "mentee_ids": residents, "mentor_ids": [attending.pk]},
            timeout=10,
        )
    )
    assert response.status_code == 201 and seconds < PAGE_BUDGET, (response.status_code, response.text, seconds)
    assert response.headers[PROCESSING_DELAYED_HEADER] == "true"
    run = MatchRun.objects.get(pk=response.json()["id"])
    assert run.status == MatchRun.Status.QUEUED

    # Redis is back (empty: nothing was queued while it was down). The sweepers enqueue
    # the work the database still holds, and a worker does it.
    private_redis.start()
    worker = start_worker(**env)
    swept = _sweep(env)
    assert "notifications 1" in swept, swept
    assert _wait_for(lambda: Notification.objects.filter(pk=notification.pk, emailed_at__isnull=False).exists())
    assert _wait_for(lambda: MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.SUCCEEDED).exists()), (
        MatchRun.objects.values_list("status", "error").get(pk=run.pk)
    )
    assert f"To: {attending.email}" in worker.log.read_text()

    # The server found the broker again by itself: the next change is not delayed and
    # its e-mail goes out without a sweep.
    response = web.post(
        base + reverse("matching:request-create", args=[other_attending.pk]),
        {"kind": "career", "message": MESSAGE},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and PROCESSING_DELAYED_HEADER not in response.headers
    assert _wait_for(lambda: Notification.objects.filter(user=other_attending, emailed_at__isnull=False).exists()), (
        "the server did not reconnect to the broker"
    )
