"""The fail-soft cache when Redis is down; tests/integration/test_redis_outage.py stops a real Redis."""

import socket
from unittest import mock

import pytest
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

import core.cache
from core.cache import FailSoftRedisCache

# --- The cache.


def _dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dead_redis_location():
    # Bound then closed: nothing listens there, so every connection is refused at once.
    return f"redis://127.0.0.1:{_dead_port()}/0"


OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class TestFailSoftCache:
    def test_control_plain_redis_cache_raises_when_redis_is_down(self, dead_redis_location):
        cache = RedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        with pytest.raises(RedisConnectionError):
            cache.get("key")

    def test_reads_miss_and_writes_do_nothing_when_redis_is_down(self, dead_redis_location):
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        with mock.patch.object(core.cache.logger, "warning") as warning:
            assert cache.get("key") is None
            assert cache.get("key", "fallback") == "fallback"
            assert cache.get_many(["a", "b"]) == {}
            assert cache.has_key("key") is False
            assert cache.add("key", 1) is False
            assert cache.set("key", 1) is None
            assert cache.set_many({"a": 1}) == ["a"]
            assert cache.delete("key") is False
            cache.delete_many(["a"])
        assert [call.args[1] for call in warning.call_args_list] == [
            "get",
            "get",
            "get_many",
            "has_key",
            "add",
            "set",
            "set_many",
            "delete",
            "delete_many",
        ]

    @pytest.mark.parametrize("method", ["add", "set", "touch", "set_many"])
    def test_a_write_without_a_timeout_keeps_the_default_timeout_not_forever(self, method, dead_redis_location):
        # Django reads timeout=None as "never expire"; leaving it out means the configured TIMEOUT.
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS, "TIMEOUT": 60})
        with mock.patch.object(RedisCache, method, autospec=True) as write:
            getattr(cache, method)(
                {"key": 1} if method == "set_many" else "key", *([] if method in ("touch", "set_many") else [1])
            )
        timeout = write.call_args.args[3 if method not in ("touch", "set_many") else 2]
        assert cache.get_backend_timeout(timeout) == 60

    def test_get_or_set_computes_the_value_when_redis_is_down(self, dead_redis_location):
        cache = FailSoftRedisCache(dead_redis_location, {"OPTIONS": OPTIONS})
        calls = []
        assert cache.get_or_set("key", lambda: calls.append(1) or "computed") == "computed"
        assert cache.get_or_set("key", lambda: calls.append(1) or "computed") == "computed"
        assert calls == [1, 1], "nothing was cached, so the value is computed every time"

    def test_throttled_token_endpoint_fails_open_when_redis_is_down(self, settings, dead_redis_location, db):
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.FailSoftRedisCache", "LOCATION": dead_redis_location, "OPTIONS": OPTIONS}
        }
        # ScopedRateThrottle reads the default cache, which now points at the dead Redis.
        response = APIClient().post("/api/v1/auth/token/", {"username": "x@example.org", "password": "nope"})
        assert response.status_code in (400, 401, 403), response.status_code
