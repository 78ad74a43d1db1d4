"""The SLA kernel's Celery tasks: the beat's sweep, and the handler run for each warning and breach."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(name="saypro.sla.tasks.sweep")
def sweep() -> dict[str, int]:
    result = services.sla_sweep()
    # The backstop for handler tasks that never ran: a crashed worker's unacknowledged message would otherwise
    # wait for the broker's visibility timeout (an hour on Redis) before anyone is warned.
    stale = services.clock_events_redispatch()
    for event_id in stale:
        handle_event.delay(event_id)
    return {
        "warned": result.warned,
        "breached": result.breached,
        "batches": result.batches,
        "redispatched": len(stale),
    }


# OSError: a mail server or gateway that is down. OperationalError: a deadlock, a dropped connection or a busy
# SQLite file. Both are worth another try, and the claim in clock_event_handle makes the retry safe.
@shared_task(
    name="saypro.sla.tasks.handle_event",
    autoretry_for=(OSError, OperationalError),
    retry_backoff=True,
    max_retries=8,
)
def handle_event(event_id: int) -> None:
    """Run the metric's handler for one warn/breach event, once even if the task is delivered twice."""
    services.clock_event_handle(event_id=event_id)
