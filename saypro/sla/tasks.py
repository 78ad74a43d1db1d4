"""The SLA kernel's Celery tasks: the beat's sweep, and the handler run for each warning and breach."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(name="saypro.sla.tasks.sweep")
def sweep() -> dict[str, int]:
    result = services.sla_sweep()
    # The backstop for handler tasks that never ran: a crashed worker's unacknowledged message would otherwise
    # wait for the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT) before anyone is warned.
    stale = services.clock_events_redispatch()
    if stale:
        handle_events.delay(stale)
    return {
        "warned": result.warned,
        "breached": result.breached,
        "batches": result.batches,
        "redispatched": len(stale),
    }


# OSError: a mail server or gateway that is down. OperationalError: a deadlock, a dropped connection or a busy
# SQLite file. Both are worth another try, and the claim in clock_event_handle makes the retry safe.
@shared_task(
    name="saypro.sla.tasks.handle_events",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    max_retries=8,
)
def handle_events(event_ids: list[int]) -> None:
    """Run the metric's handler for each warn/breach event, once each even if the task is delivered twice.

    One task per sweep batch rather than per event: publishing is most of a sweep's cost. A retry after a failure
    part-way through runs the whole list again, and the events already handled are skipped by their claims.
    """
    for event_id in event_ids:
        services.clock_event_handle(event_id=event_id)
