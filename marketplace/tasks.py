"""Celery tasks of the marketplace. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def listings_expire() -> int:
    """End the active listings whose 30 days are over; returns how many."""
    return services.listings_expire_due()


@shared_task
def listings_remind_renewal() -> int:
    """Remind sellers whose listing's renewal window opened; returns how many."""
    return services.listings_remind_renewal()
