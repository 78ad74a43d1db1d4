"""Reads for the marketplace pages, the API and the listing detection rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from .models import Listing, ListingStatus

MEDIAN_WINDOW = timedelta(days=90)
# Fewer listings than this in a category and currency say nothing about its usual price.
MEDIAN_MIN_LISTINGS = 8
MEDIAN_CACHE_SECONDS = 600


def category_median_price(*, category_id: int, currency: str, now: datetime | None = None) -> Decimal | None:
    """The median price of the category's listings in one currency over the last 90 days (removed ones left out).

    Read with ORDER BY … OFFSET in the database, and cached for ten minutes: it moves slowly.
    """
    key = f"marketplace:median:{category_id}:{currency}"
    cached = cache.get(key)
    if cached is not None:
        return Decimal(cached) if cached != "" else None
    now = now or timezone.now()
    listings = Listing.objects.filter(
        category_id=category_id, currency=currency, created_at__gte=now - MEDIAN_WINDOW
    ).exclude(status=ListingStatus.REMOVED)
    count = listings.count()
    median = None
    if count >= MEDIAN_MIN_LISTINGS:
        median = listings.order_by("price").values_list("price", flat=True)[count // 2]
    cache.set(key, str(median) if median is not None else "", MEDIAN_CACHE_SECONDS)
    return median
