"""Rate limits kept in the shared cache (Redis in production, a file cache by default), over a sliding window.

Each key counts its events per fixed window of `window` seconds. The events of the last `window` seconds are
estimated as the current window's count plus the previous window's, weighted by the share of it that still lies
within the last `window` seconds (the sliding-window counter). A fixed window alone lets twice the limit through
in a moment across a window's edge: the limit's last events just before it, a new limit's worth just after.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache

from saypro.errors import RateLimited


def _bucket(key: str, window: int, index: int) -> str:
    # Keys carry what a client typed (an e-mail, a phone number): a digest keeps them short and free of characters
    # a cache backend refuses, whatever was sent.
    digest = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"rl:{digest}:{window}:{index}"


def _estimate(previous: int, current: int, now: float, window: int) -> int:
    # Rounded up: a previous window's events count until the last of them could have left the sliding window.
    still_inside = 1 - (now % window) / window
    return current + math.ceil(previous * still_inside)


def hit(key: str, *, limit: int, window: int) -> int:
    """Count one event for `key` and return the events of the last `window` seconds, this one included."""
    now = time.time()
    index = int(now // window)
    bucket = _bucket(key, window, index)
    # Kept through the next window too, which weighs it.
    cache.add(bucket, 0, timeout=2 * window + 1)
    try:
        current = cache.incr(bucket)
    except ValueError:
        # The bucket expired between add() and incr(), or the cache is away: this event starts the count again.
        cache.set(bucket, 1, timeout=2 * window + 1)
        current = 1
    previous = int(cache.get(_bucket(key, window, index - 1)) or 0)
    return _estimate(previous, current, now, window)


def check(key: str, *, limit: int, window: int, message: str) -> None:
    """Count one event and raise RateLimited once more than `limit` happen within `window` seconds."""
    if hit(key, limit=limit, window=window) > limit:
        raise RateLimited(message)


def _counts(key: str, window: int, now: float) -> tuple[int, int]:
    index = int(now // window)
    previous, current = _bucket(key, window, index - 1), _bucket(key, window, index)
    found = cache.get_many([previous, current])
    return int(found.get(previous) or 0), int(found.get(current) or 0)


def count(key: str, *, window: int) -> int:
    """The events of the last `window` seconds for `key`, without counting one more."""
    now = time.time()
    return _estimate(*_counts(key, window, now), now, window)


def seconds_left(key: str, *, limit: int, window: int) -> int:
    """Seconds until `key` is under `limit` again (count() below it), if no more events come."""
    now = time.time()
    previous, current = _counts(key, window, now)
    elapsed = now % window
    if current >= limit:
        # Only in the next window, once this window's count, weighted down as that one runs, is under the limit.
        share = 1 - (limit - 1) / current
        wait = window - elapsed + share * window
    elif previous:
        # In this window, once the previous window's weighted count leaves room under the limit.
        share = 1 - (limit - 1 - current) / previous
        wait = share * window - elapsed
    else:
        wait = 0
    return max(1, math.ceil(wait))
