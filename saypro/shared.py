"""Figures shared by everyone who may see them: computed at most once per refresh interval, under a lock.

A page header that aggregates a whole open set (the dashboard's promise tiles, the inbox's tiles) costs what the
backlog costs, and shows the same numbers to every member of staff. So it is computed at most once per refresh
interval, kept in Django's cache (Redis in production) and shown with the time it was computed ("as of
07:28:49"). One request computes it under a lock; the others serve the previous entry meanwhile, or wait for the
first one when there is none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from django.core.cache import cache

# How often the dashboards fetch their tiles again, and how old the shared tiles they are given may be. Read as
# `shared.REFRESH_SECONDS` at request time, so that one assignment here changes it for every page.
REFRESH_SECONDS = 30
# How long the computing request holds the lock: longer than a cold computation on a busy machine, short enough
# that a request which died computing delays nobody for long.
LOCK_SECONDS = 30
# A request that finds nothing while another computes it polls this often.
WAIT_POLL_SECONDS = 0.05


class Dated(Protocol):
    @property
    def as_of(self) -> datetime: ...


Entry = TypeVar("Entry", bound=Dated)


def computed_once(key: str, compute: Callable[[datetime], Entry], *, now: datetime, max_age: float) -> Entry:
    """The entry under `key` if computed less than `max_age` seconds before `now`, else `compute(now)` once for all.

    The entry outlives `max_age` so that while one request recomputes it the others serve it a moment longer
    instead of piling onto the database. With the cache away (Redis down: every read misses, every add fails)
    each request computes its own, as before there was a cache."""
    entry: Entry | None = cache.get(key)
    if entry is not None and now - timedelta(seconds=max_age) < entry.as_of <= now:
        return entry
    lock = f"{key}:lock"
    if cache.add(lock, 1, timeout=LOCK_SECONDS):
        try:
            return _store(key, compute, now=now, max_age=max_age)
        finally:
            cache.delete(lock)
    if entry is not None and entry.as_of <= now:
        return entry
    # Nothing to show yet and another request is computing it: wait for theirs rather than compute it again.
    deadline = time.monotonic() + LOCK_SECONDS
    while time.monotonic() < deadline and cache.get(lock) is not None:
        time.sleep(WAIT_POLL_SECONDS)
        entry = cache.get(key)
        if entry is not None:
            return entry
    entry = cache.get(key)
    return entry if entry is not None else _store(key, compute, now=now, max_age=max_age)


def _store(key: str, compute: Callable[[datetime], Entry], *, now: datetime, max_age: float) -> Entry:
    entry = compute(now)
    # Serving a stale entry is only for the moments of a recomputation; past a few intervals it is dropped.
    cache.set(key, entry, timeout=max(4 * max_age, LOCK_SECONDS))
    return entry
