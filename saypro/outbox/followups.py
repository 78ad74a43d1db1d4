"""Pending follow-ups: after-commit work that can be found again from the database alone.

A request commits its rows and hands the rest (screening, detection, triage, an acknowledgement, a report) to
a task. When that task is lost (a worker killed with its reserved tasks, Redis restarted empty, a publish that
vanished), the rows still show that the follow-up never happened: a registration still `screening`, content
without a detection, a conversation never triaged. Each app declares those queries here, from its
AppConfig.ready()::

    from saypro.outbox.followups import followup_register

    followup_register(
        "accounts.screening",
        pending=lambda *, before, since: Registration.objects.filter(
            status="screening", submitted_at__lt=before
        ).values_list("pk", flat=True),
        dispatch=lambda item: tasks.screen_registration.delay(int(item)),
    )

and `followups_reconcile` (beat, every few minutes) hands each item whose follow-up is overdue by
FOLLOWUP_GRACE_MINUTES to a worker again. A claim row per item (FollowUpClaim) makes a run every few minutes
re-dispatch an item at most once per FOLLOWUP_RETRY_MINUTES, and the tasks themselves are idempotent, so the
work is done once in effect however often the item is handed out.

- `pending(*, before, since)` returns item keys (ids, or text such as "listing:12") accepted before `before`
  whose follow-up has not happened. `since` is the oldest acceptance worth replaying (FOLLOWUP_LOOKBACK_DAYS,
  and never before the follow-up's first sweep); a query for a state that must never be left for good (a
  registration stuck in screening) may ignore it. Each query should read an index.
- `dispatch(item)` publishes the task for one item (through the outbox, like every task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    key: str
    pending: Callable[..., Iterable[Any]]
    dispatch: Callable[[str], Any]
    description: str = ""


_registry: dict[str, FollowUp] = {}


def followup_register(
    key: str, *, pending: Callable[..., Iterable[Any]], dispatch: Callable[[str], Any], description: str = ""
) -> FollowUp:
    if len(key) > 60:
        raise ImproperlyConfigured(f"The follow-up key {key!r} is longer than 60 characters.")
    entry = FollowUp(key=key, pending=pending, dispatch=dispatch, description=description)
    _registry[key] = entry
    return entry


def followups() -> list[FollowUp]:
    return [_registry[key] for key in sorted(_registry)]


def _first_sweep(key: str, now: datetime) -> datetime:
    from .models import FollowUpClaim

    marker, _ = FollowUpClaim.objects.get_or_create(followup=key, item="", defaults={"dispatched_at": now})
    return marker.dispatched_at


def _claim(key: str, item: str, now: datetime) -> bool:
    """Claim one item for a re-dispatch: a new claim, or an old one whose retry time has come."""
    from .models import FollowUpClaim

    retry_before = now - timedelta(minutes=settings.FOLLOWUP_RETRY_MINUTES)
    renewed = FollowUpClaim.objects.filter(
        followup=key, item=item, dispatched_at__lte=retry_before, attempts__lt=settings.FOLLOWUP_MAX_ATTEMPTS
    ).update(dispatched_at=now, attempts=F("attempts") + 1)
    if renewed:
        return True
    try:
        with transaction.atomic():
            FollowUpClaim.objects.create(followup=key, item=item, dispatched_at=now)
    except IntegrityError:
        return False  # claimed recently (by this sweep's last run or another one), or given up on
    return True


def followups_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Hand every overdue follow-up to a worker again; returns how many items per follow-up."""
    now = now or timezone.now()
    before = now - timedelta(minutes=settings.FOLLOWUP_GRACE_MINUTES)
    lookback = now - timedelta(days=settings.FOLLOWUP_LOOKBACK_DAYS)
    counts: dict[str, int] = {}
    for entry in followups():
        since = max(lookback, _first_sweep(entry.key, now))
        dispatched = 0
        items = entry.pending(before=before, since=since)
        if isinstance(items, QuerySet):
            items = items[: settings.FOLLOWUP_BATCH_SIZE]
        for item in islice(items, settings.FOLLOWUP_BATCH_SIZE):
            key = str(item)
            if not key or not _claim(entry.key, key, now):
                continue
            try:
                entry.dispatch(key)
            except Exception:
                logger.exception("follow-up %s: dispatching %s failed", entry.key, key)
                continue
            dispatched += 1
        if dispatched:
            logger.warning("follow-up %s: %s item(s) handed to a worker again", entry.key, dispatched)
        counts[entry.key] = dispatched
    _forget(now)
    return counts


def _forget(now: datetime) -> None:
    """Claims outlive their usefulness once the lookback has passed (the first-sweep markers stay)."""
    from .models import FollowUpClaim

    horizon = now - timedelta(days=settings.FOLLOWUP_LOOKBACK_DAYS + 1)
    FollowUpClaim.objects.filter(dispatched_at__lt=horizon).exclude(item="").delete()


def mail_recorded(once_key_prefix: str, ref: str = "pk") -> Any:
    """An `Exists` for "the e-mail with once-key `<prefix><ref>` was recorded": sent, being sent or failed (a
    failed e-mail is the mail retry's to send, not the sweep's). For follow-ups that are an e-mail."""
    from django.db.models import CharField, Exists, OuterRef, Value
    from django.db.models.functions import Cast, Concat

    from .models import MailDelivery

    return Exists(
        MailDelivery.objects.filter(
            once_key=Concat(Value(once_key_prefix), Cast(OuterRef(ref), output_field=CharField()))
        )
    )
