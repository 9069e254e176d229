import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache, which outlives each test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_for():
    """``api_for(user)``: an API client authenticated as ``user`` (no session, no token)."""

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
