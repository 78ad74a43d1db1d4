"""Daily activity per user, counted in the shared cache and flushed into ActivityDay by a periodic task.

Other apps call `activity_record(user_id=..., feature=MESSAGE_SENT)` whenever a user uses a feature. The call
costs two or three cache operations (Redis in production) and no database write. `activity_flush()` (beat, every
minute) adds the counts to one ActivityDay row per user and local day, and to ActivityHour for the hour-of-day
chart.

How nothing is lost or counted twice:
- Counts go into the current *batch*: a random id kept in the cache. The first count of a (user, day, hour,
  feature) in a batch also appends its key to the batch's index, so the flush can find it.
- The flush seals the batch (a new id becomes current) and applies only batches sealed at least
  SETTLE_SECONDS ago, so a call that read the old id just before the switch has finished writing.
- Applying a batch inserts an ActivityFlush row in the same transaction as the counts: a flush that runs
  again, or a second worker, skips a batch already applied.

Counting is exact on Redis, where add() and incr() are atomic. The file cache of a developer's machine may
lose a count when two processes hit the same counter at the same instant; that is the price of needing no
server there.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from datetime import date, datetime

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ActivityDay, ActivityFlush, ActivityHour, User

SIGN_IN = "sign_in"
PROFILE_UPDATE = "profile_update"
PASSWORD_CHANGE = "password_change"
MESSAGE_SENT = "message_sent"
LISTING_POSTED = "listing_posted"
TRANSACTION = "transaction"

# Feature → ActivityDay column.
FEATURE_FIELDS = {
    SIGN_IN: "sign_ins",
    PROFILE_UPDATE: "profile_updates",
    PASSWORD_CHANGE: "password_changes",
    MESSAGE_SENT: "messages_sent",
    LISTING_POSTED: "listings_posted",
    TRANSACTION: "transactions",
}
FEATURES = tuple(FEATURE_FIELDS)

CURRENT_KEY = "activity:batch"
SEALED_KEY = "activity:sealed"
FLUSH_LOCK_KEY = "activity:flush-lock"
# Long enough that a batch survives a week of stopped workers; the flush deletes what it applied.
TTL = 7 * 24 * 3600
SETTLE_SECONDS = 5.0


class UnknownFeature(ValueError):
    pass


def _current_batch() -> str:
    batch = cache.get(CURRENT_KEY)
    if batch is None:
        # Two first callers may race here; add() lets one id win and both use it.
        cache.add(CURRENT_KEY, secrets.token_hex(8), timeout=None)
        batch = cache.get(CURRENT_KEY)
    return str(batch)


def activity_record(*, user_id: int, feature: str, at: datetime | None = None) -> None:
    """Count one use of `feature` by the user, on the local day (and hour) of `at` (default now).

    Cheap enough for every request: no database access. The count reaches ActivityDay at the next flush."""
    if feature not in FEATURE_FIELDS:
        raise UnknownFeature(f"Unknown activity feature {feature!r}; use one of {', '.join(FEATURES)}.")
    local = timezone.localtime(at or timezone.now())
    batch = _current_batch()
    entry = f"{local.date().isoformat()}:{local.hour}:{int(user_id)}:{feature}"
    counter = f"activity:{batch}:c:{entry}"
    if cache.add(counter, 1, timeout=TTL):
        # The first count of this entry in the batch: make it findable by the flush.
        cache.set(f"activity:{batch}:i:{_next_position(batch)}", entry, timeout=TTL)
    else:
        try:
            cache.incr(counter)
        except ValueError:
            # The counter expired between add() and incr() (only after TTL): start it again.
            cache.set(counter, 1, timeout=TTL)


def _next_position(batch: str) -> int:
    size = f"activity:{batch}:n"
    cache.add(size, 0, timeout=TTL)
    try:
        return int(cache.incr(size))
    except ValueError:
        # Gone between add() and incr() (evicted, or Redis away for a moment): a lost position must not fail the
        # request that is being counted.
        cache.set(size, 1, timeout=TTL)
        return 1


def _seal_current(now: float) -> None:
    old = cache.get(CURRENT_KEY)
    cache.set(CURRENT_KEY, secrets.token_hex(8), timeout=None)
    if old is not None:
        sealed = cache.get(SEALED_KEY) or []
        cache.set(SEALED_KEY, [*sealed, (str(old), now)], timeout=None)


def _read_batch(batch: str) -> dict[str, int]:
    """Entry → count for one batch."""
    size = cache.get(f"activity:{batch}:n") or 0
    index_keys = [f"activity:{batch}:i:{n}" for n in range(1, size + 1)]
    entries = [e for e in cache.get_many(index_keys).values() if e]
    counts = cache.get_many([f"activity:{batch}:c:{e}" for e in entries])
    prefix = len(f"activity:{batch}:c:")
    return {key[prefix:]: int(value) for key, value in counts.items() if value}


def _delete_batch(batch: str, entries: list[str]) -> None:
    size = cache.get(f"activity:{batch}:n") or 0
    cache.delete_many(
        [
            f"activity:{batch}:n",
            *(f"activity:{batch}:i:{n}" for n in range(1, size + 1)),
            *(f"activity:{batch}:c:{e}" for e in entries),
        ]
    )


def _apply(batch: str, counts: dict[str, int]) -> None:
    if not counts:
        return  # an empty batch (a quiet minute) has nothing to apply, nor to mark as applied
    days: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(FEATURE_FIELDS.values(), 0))
    hours: dict[tuple[date, int], int] = defaultdict(int)
    for entry, count in counts.items():
        day_text, hour, user_id, feature = entry.split(":")
        day = date.fromisoformat(day_text)
        days[(int(user_id), day)][FEATURE_FIELDS[feature]] += count
        hours[(day, int(hour))] += count
    with transaction.atomic():
        try:
            with transaction.atomic():
                ActivityFlush.objects.create(batch=batch, entries=len(counts))
        except IntegrityError:
            return  # applied by an earlier run
        _add_days(days)
        _add_hours(hours)


def _add_days(days: dict[tuple[int, date], dict[str, int]]) -> None:
    if not days:
        return
    user_ids = {user_id for user_id, _ in days}
    wanted = set(days)
    existing = {
        (row.user_id, row.day): row
        for row in ActivityDay.objects.select_for_update()
        .filter(user_id__in=user_ids, day__in={day for _, day in days})
        .iterator(chunk_size=2000)
        if (row.user_id, row.day) in wanted
    }
    # Counts of users deleted since they were recorded are dropped, not inserted with a dangling key.
    live = set(User.objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    new, changed = [], []
    for (user_id, day), values in days.items():
        row = existing.get((user_id, day))
        if row is None:
            if user_id in live:
                new.append(ActivityDay(user_id=user_id, day=day, **values))
            continue
        for name, count in values.items():
            setattr(row, name, getattr(row, name) + count)
        changed.append(row)
    ActivityDay.objects.bulk_update(changed, list(FEATURE_FIELDS.values()), batch_size=1000)
    ActivityDay.objects.bulk_create(new, batch_size=1000)


def _add_hours(hours: dict[tuple[date, int], int]) -> None:
    if not hours:
        return
    existing = {
        (row.day, row.hour): row
        for row in ActivityHour.objects.select_for_update().filter(day__in={day for day, _ in hours})
    }
    new, changed = [], []
    for (day, hour), count in hours.items():
        row = existing.get((day, hour))
        if row is None:
            new.append(ActivityHour(day=day, hour=hour, actions=count))
        else:
            row.actions += count
            changed.append(row)
    ActivityHour.objects.bulk_update(changed, ["actions"])
    ActivityHour.objects.bulk_create(new)


def activity_flush(*, settle_seconds: float = SETTLE_SECONDS) -> int:
    """Seal the current batch and add every settled batch to the database; returns the entries applied.

    One flush at a time (a cache lock); a batch is applied at most once (ActivityFlush)."""
    if not cache.add(FLUSH_LOCK_KEY, 1, timeout=300):
        return 0
    try:
        now = time.time()
        _seal_current(now)
        sealed: list[tuple[str, float]] = cache.get(SEALED_KEY) or []
        # The batch sealed just now waits for the next run unless settle_seconds is 0: a call that read its id
        # a moment ago may still be writing to it.
        ready = [(b, t) for b, t in sealed if now - t >= settle_seconds]
        applied = 0
        for batch, _ in ready:
            counts = _read_batch(batch)
            _apply(batch, counts)
            _delete_batch(batch, list(counts))
            applied += len(counts)
        done = {b for b, _ in ready}
        remaining = [(b, t) for b, t in (cache.get(SEALED_KEY) or []) if b not in done]
        cache.set(SEALED_KEY, remaining, timeout=None)
        return applied
    finally:
        cache.delete(FLUSH_LOCK_KEY)
