"""Rows built once for a module or a class of tests, instead of once per test.

A module- or class-scoped fixture writes them inside an outer transaction and rolls it back
at the end of its scope. Each test still runs in its own transaction (the ``db`` fixture, a
savepoint inside the outer one), rolled back afterwards, so the tests stay independent.

Only for tests on the ``db`` fixture: a transactional test (``transactional_db``,
``live_server``) ends by flushing every table, shared rows included.
"""

import importlib
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.apps import apps
from django.db import transaction

from accounts.models import Specialty

T = TypeVar("T")


def world_for_scope(django_db_blocker, build: Callable[[], T]) -> Iterator[T]:
    """``yield from world_for_scope(django_db_blocker, build)`` in a module- or class-scoped
    fixture: ``build()``'s rows are there for every test of the scope and gone after it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # A transactional test that ran earlier on this worker flushed the migrations' rows.
            if not Specialty.objects.exists():
                importlib.import_module("accounts.migrations.0002_seed_vocabularies").seed(apps, None)
            world = build()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
