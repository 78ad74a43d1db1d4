"""Celery tasks of the marketplace. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def listings_expire() -> int:
    """End the active listings whose 30 days are over; returns how many."""
    return services.listings_expire_due()
