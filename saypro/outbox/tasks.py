from celery import shared_task

from .services import outbox_drain


@shared_task(name="saypro.outbox.tasks.drain")
def drain() -> int:
    return outbox_drain()
