from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import handlers
from .models import ClockEvent
from .services import sla_sweep


@shared_task
def sweep() -> dict[str, int]:
    result = sla_sweep()
    return {"warned": result.warned, "breached": result.breached, "batches": result.batches}


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def handle_event(event_id: int) -> None:
    """Run the metric's handler for one warn/breach event, once even if the task is delivered twice.

    The claim and the handler share a transaction: a second delivery waits on the claimed row and then finds
    it handled, while a handler that fails (mail server down) rolls the claim back for the retry.
    """
    with transaction.atomic():
        claimed = ClockEvent.objects.filter(pk=event_id, handled_at__isnull=True).update(handled_at=timezone.now())
        if claimed != 1:
            return
        event = ClockEvent.objects.select_related("clock").get(pk=event_id)
        handler = handlers.handler_for(event.clock.metric)
        if handler is not None:
            handler(event)
