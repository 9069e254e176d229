import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth counts wrong second-factor codes per user id in the cache. On SQLite a rolled-back
    test hands its ids to the next one, so an in-process cache would carry one test's count into
    another. (On PostgreSQL, with Redis, ids are never reused and the cache is shared: untouched.)"""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
