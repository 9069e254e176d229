"""Helpers for the race tests: pause one call inside its transaction, let the others run
into its locks (or past them, in a control case), then let it go on."""

import threading
import time

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection


class Hold:
    """Wraps a step of a service: the first call to reach it stops there, inside its
    transaction, until ``release`` is set; later calls go straight through."""

    def __init__(self, real):
        self.real = real
        self.entered, self.release = threading.Event(), threading.Event()
        self._first = threading.Lock()

    def __call__(self, *args, **kwargs):
        if self._first.acquire(blocking=False):
            self.entered.set()
            assert self.release.wait(30), "the test never released the held call"
        return self.real(*args, **kwargs)


def hold_step(monkeypatch, module, name):
    hold = Hold(getattr(module, name))
    monkeypatch.setattr(module, name, hold)
    return hold


def lock_waiters() -> int:
    """Backends of this test database waiting for a lock (a row, or another transaction's insert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _recorder(calls):
    """(``go(k)``, outcomes, errors): ``go(k)`` is a thread's body that runs ``calls[k]`` on the
    thread's own connection and records "ok" or the ValidationError's text at ``outcomes[k]``;
    anything else it raises goes to ``errors``."""
    outcomes, errors = [None] * len(calls), []

    def go(k):
        close_old_connections()
        try:
            calls[k]()
            outcomes[k] = "ok"
        except ValidationError as exc:
            outcomes[k] = " ".join(exc.messages)
        except Exception as exc:  # anything else would be a 500 for someone
            errors.append(repr(exc))
        finally:
            connection.close()

    return go, outcomes, errors


def together(*calls):
    """Run the calls in threads released at the same moment; (outcomes in call order: "ok" or
    the ValidationError's text, unexpected errors)."""
    barrier = threading.Barrier(len(calls))

    def released(call):
        def run():
            barrier.wait()
            call()

        return run

    go, outcomes, errors = _recorder([released(call) for call in calls])
    threads = [threading.Thread(target=go, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes, errors


def overlap(first, *others, hold):
    """Run ``first`` until ``hold`` pauses it, then ``others`` in threads; release ``first``
    once each of the others is blocked on a lock or finished. Returns (outcomes in call
    order: "ok" or the ValidationError's text, unexpected errors, how many were seen blocked)."""
    calls = (first, *others)
    go, outcomes, errors = _recorder(calls)

    leader = threading.Thread(target=go, args=(0,))
    leader.start()
    try:
        assert hold.entered.wait(10), "the first call never reached the held step"
        threads = [threading.Thread(target=go, args=(k,)) for k in range(1, len(calls))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while True:
            blocked = lock_waiters()
            if blocked >= sum(t.is_alive() for t in threads):
                break
            assert time.monotonic() < deadline, "the other calls neither finished nor waited on a lock"
            time.sleep(0.01)  # poll, with the deadline above
    finally:
        hold.release.set()
    for t in [leader, *threads]:
        t.join(timeout=60)
    return outcomes, errors, blocked
