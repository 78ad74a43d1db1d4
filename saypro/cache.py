"""Django's Redis cache, made to degrade instead of fail when Redis is away.

The cache holds rate-limit counters and short-lived markers, never the only copy of anything, so while Redis is
down a read is a miss, a write is skipped (and logged) and the pages and the API keep serving. `/healthz` still
reports the cache as down, so the outage is visible.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _degrading(name: str, fallback: Callable[..., Any]) -> Callable[..., Any]:
    method = getattr(RedisCacheClient, name)

    @functools.wraps(method)
    def wrapped(self: RedisCacheClient, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as error:
            logger.warning("cache unavailable: %s skipped (%r)", name, error)
            return fallback(*args, **kwargs)

    return wrapped


def _key_not_found(*args: Any, **kwargs: Any) -> Any:
    # What incr() raises for a missing key: a rate limit then starts a new window (and fails open).
    raise ValueError("Key not found (the cache is unavailable).")


class DegradingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """One redis.Redis per connection pool, made on first use. Django makes a new one for every command, which
        costs about as much as the command's round trip to a local Redis (it copies the client's table of response
        callbacks): a rate-limited API request sends several. The client is thread-safe; the pool hands each
        command a connection, and makes new ones after a fork."""
        django: Any = self  # Django's pool helpers are private: not in its type stubs
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = django._client(connection_pool=django._get_connection_pool(write))
        return client

    add = _degrading("add", lambda *a, **k: False)
    get = _degrading("get", lambda key, default, *a, **k: default)
    set = _degrading("set", lambda *a, **k: None)
    touch = _degrading("touch", lambda *a, **k: False)
    delete = _degrading("delete", lambda *a, **k: False)
    get_many = _degrading("get_many", lambda *a, **k: {})
    has_key = _degrading("has_key", lambda *a, **k: False)
    incr = _degrading("incr", _key_not_found)
    set_many = _degrading("set_many", lambda *a, **k: [])
    delete_many = _degrading("delete_many", lambda *a, **k: None)
    clear = _degrading("clear", lambda *a, **k: False)


class DegradingRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]):
        super().__init__(server, params)
        self._class = DegradingRedisCacheClient
