"""Fixed-window rate limits kept in the shared cache (Redis in production, a file cache by default)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from saypro.errors import RateLimited


def _bucket(key: str, window: int) -> str:
    # Keys carry what a client typed (an e-mail, a phone number): a digest keeps them short and free of characters
    # a cache backend refuses, whatever was sent.
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"rl:{digest}:{int(time.time() // window)}"


def hit(key: str, *, limit: int, window: int) -> int:
    """Count one event for `key` in the current window and return the count so far."""
    bucket = _bucket(key, window)
    cache.add(bucket, 0, timeout=window + 1)
    try:
        return cache.incr(bucket)
    except ValueError:
        # The bucket expired between add() and incr(): this event opens a new window.
        cache.set(bucket, 1, timeout=window + 1)
        return 1


def check(key: str, *, limit: int, window: int, message: str) -> None:
    """Count one event and raise RateLimited once more than `limit` happen within `window` seconds."""
    if hit(key, limit=limit, window=window) > limit:
        raise RateLimited(message)


def count(key: str, *, window: int) -> int:
    """How many events `key` has had in the current window, without counting one more."""
    return int(cache.get(_bucket(key, window)) or 0)


def seconds_left(*, window: int) -> int:
    """Seconds until the current window ends and every count under it starts again."""
    return max(1, int(window - time.time() % window))
