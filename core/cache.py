"""A Redis cache that fails soft: with Redis down, pages still render.

Everything cached here can be recomputed, so an unreachable Redis is a miss on read
and a no-op on write, logged, never a 500. The connect and socket timeouts in
settings bound how long each attempt can block.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FailSoftRedisCache(RedisCache):
    def _fail_soft(self, operation: str, fallback: Any, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (RedisError, OSError):
            logger.warning("Cache %s failed; carrying on without the cache", operation, exc_info=True)
            return fallback

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._fail_soft("get", default, lambda: super(FailSoftRedisCache, self).get(key, default, version))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._fail_soft("get_many", {}, lambda: super(FailSoftRedisCache, self).get_many(keys, version))

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._fail_soft("has_key", False, lambda: super(FailSoftRedisCache, self).has_key(key, version))

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        # False, "not added": get_or_set then returns its freshly computed default.
        return self._fail_soft("add", False, lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version))

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._fail_soft("set", None, lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version))

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._fail_soft(
            "set_many", list(data), lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._fail_soft("touch", False, lambda: super(FailSoftRedisCache, self).touch(key, timeout, version))

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._fail_soft("delete", False, lambda: super(FailSoftRedisCache, self).delete(key, version))

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._fail_soft("delete_many", None, lambda: super(FailSoftRedisCache, self).delete_many(keys, version))
