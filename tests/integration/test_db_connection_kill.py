"""PostgreSQL drops every connection (pg_terminate_backend, as a failover or a restart
would): the next requests and tasks succeed. The server and the worker keep connections
open (CONN_MAX_AGE=60); Django's health check (CONN_HEALTH_CHECKS) finds a dead one
before its first query and reconnects.

A request in flight at the kill (between pg_terminate_backend and the backends' exit)
may still fail: its connection dies under it, and Django does not retry a request. The
traffic test counts those (typically most of the few in flight) and asserts that every
request that did not overlap a kill succeeded.
"""

import threading
import time

import pytest
import requests
from django.db import connection
from django.urls import reverse

from accounts.tasks import send_invitation
from tests.factories import UserFactory

from .conftest import signed_in_session

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OTHERS = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


def _kill_connections() -> int:
    """Terminate every other connection to the test database and wait until they are gone:
    pg_terminate_backend only signals the backend, which exits a moment later."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pid, pg_terminate_backend(pid) FROM ({OTHERS}) AS others")
        pids = [pid for pid, _ in cursor.fetchall()]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            if cursor.fetchone()[0] == 0:
                return len(pids)
            time.sleep(0.01)
    pytest.fail(f"backends {pids} still alive 5 s after pg_terminate_backend")


def _other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({OTHERS}) AS others")
        return cursor.fetchone()[0]


def _invite_through_worker(email) -> bool:
    invitee = UserFactory(email=email)
    invitee.set_unusable_password()
    invitee.save()
    return send_invitation.delay(invitee.pk).get(timeout=20, disable_sync_subtasks=False)


@pytest.fixture
def server_and_worker(start_web_server, start_worker, resident, attending):
    from config.celery import app

    app.control.purge()
    # Both keep their connections, as in production.
    start_worker(CONN_MAX_AGE="60")
    base = start_web_server(threads=4, CONN_MAX_AGE="60")
    return base, signed_in_session(resident, base)


PAGES = ("matching:dashboard", "matching:mentor-directory", "matching:requests")


def test_after_every_connection_is_killed_the_next_requests_and_tasks_succeed(server_and_worker):
    base, web = server_and_worker
    urls = [base + reverse(name) for name in PAGES]
    # Enough requests to open a connection in each of the server's threads.
    assert all(web.get(url, timeout=10).status_code == 200 for url in urls * 4)
    assert _invite_through_worker("before-kill@hospital.example") is True
    assert _other_connections() >= 2, "the server and the worker should hold open connections"

    assert _kill_connections() >= 2

    statuses = [web.get(url, timeout=10).status_code for url in urls * 4]
    assert statuses == [200] * len(statuses)
    assert _invite_through_worker("after-kill@hospital.example") is True
    assert _other_connections() >= 2, "they reconnected"


def test_under_traffic_only_requests_in_flight_at_a_kill_may_fail(server_and_worker):
    base, web = server_and_worker
    urls = [base + reverse(name) for name in PAGES]
    results = []  # (started, finished, status)
    stop = threading.Event()

    def traffic(offset):
        session = requests.Session()
        session.cookies.update(web.cookies)
        i = offset
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = session.get(urls[i % len(urls)], timeout=10).status_code
            except requests.RequestException:
                status = None
            results.append((started, time.monotonic(), status))
            i += 1

    threads = [threading.Thread(target=traffic, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    kills = []  # (started, finished)
    try:
        for _ in range(3):
            deadline = time.monotonic() + 5
            count = len(results)
            # Wait for some traffic between kills (a poll with a deadline, not a fixed sleep).
            while len(results) < count + 15 and time.monotonic() < deadline:
                time.sleep(0.02)
            started = time.monotonic()
            _kill_connections()
            kills.append((started, time.monotonic()))
        count = len(results)
        deadline = time.monotonic() + 5
        while len(results) < count + 15 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)

    def in_flight(result):
        return any(r_start < k_end and r_end > k_start for k_start, k_end in kills for r_start, r_end in [result[:2]])

    after_kills = [r for r in results if not in_flight(r)]
    at_kills = [r for r in results if in_flight(r)]
    failed_at_kills = [r for r in at_kills if r[2] != 200]
    print(
        f"{len(results)} requests; {len(at_kills)} in flight at one of {len(kills)} kills, "
        f"{len(failed_at_kills)} of those failed"
    )
    assert len(after_kills) >= 30, "too little traffic to say anything"
    assert all(status == 200 for _, _, status in after_kills), [r for r in after_kills if r[2] != 200]
    assert _invite_through_worker("after-traffic@hospital.example") is True
