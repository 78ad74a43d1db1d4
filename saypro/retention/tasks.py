from __future__ import annotations

from celery import shared_task

from .services import purge_expired


@shared_task
def purge() -> dict[str, int]:
    return purge_expired()
