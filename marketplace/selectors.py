"""Reads for the marketplace pages, the API and the listing detection rule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from moderation.badges import active_strikes, verified_annotation, verified_q

from .models import Category, Listing, ListingStatus, Transaction

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


# --- Staff pages -------------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _id_query(q: str) -> int | None:
    text = q.strip().lstrip("#")
    return int(text) if text.isdigit() else None


def listing_list(
    *,
    q: str = "",
    status: str = "",
    category: Category | None = None,
    currency: str = "",
    region: str = "",
    seller_verified: str = "",
    created_from: date | None = None,
    created_to: date | None = None,
) -> QuerySet[Listing]:
    """Listings for the administrators' page, newest first, each with its seller's badge."""
    listings = Listing.objects.all()
    if q:
        found = Q(title__icontains=q) | Q(description__icontains=q) | Q(seller__email__icontains=q)
        if (pk := _id_query(q)) is not None:
            found |= Q(pk=pk)
        listings = listings.filter(found)
    if status:
        listings = listings.filter(status=status)
    if category is not None:
        listings = listings.filter(category=category)
    if currency:
        listings = listings.filter(currency=currency)
    if region:
        listings = listings.filter(region__icontains=region)
    if seller_verified:
        verified = verified_q("seller__")
        listings = listings.filter(verified if seller_verified == "yes" else ~verified)
    if created_from:
        listings = listings.filter(created_at__gte=_day_start(created_from))
    if created_to:
        listings = listings.filter(created_at__lt=_day_start(created_to + timedelta(days=1)))
    return (
        listings.annotate(seller_verified=verified_annotation("seller__"))
        .select_related("seller__seller_profile", "category")
        .order_by("-created_at", "-pk")
    )


def user_list(*, q: str = "", status: str = "", verified: str = "", struck: bool = False) -> QuerySet[User]:
    """Marketplace users (no staff), newest first, with listing and active-strike counts and the badge."""
    users = User.objects.filter(is_staff=False)
    if q:
        found = Q(email__icontains=q) | Q(full_name__icontains=q) | Q(phone__icontains=q.replace(" ", ""))
        if (pk := _id_query(q)) is not None:
            found |= Q(pk=pk)
        users = users.filter(found)
    if status:
        users = users.filter(status=status)
    if verified:
        users = users.filter(verified_q() if verified == "yes" else ~verified_q())
    strikes = active_strikes().filter(user=OuterRef("pk")).order_by().values("user").annotate(n=Count("pk")).values("n")
    listings = Listing.objects.filter(seller=OuterRef("pk")).order_by().values("seller").annotate(n=Count("pk"))
    users = users.annotate(
        strike_count=Coalesce(Subquery(strikes, output_field=IntegerField()), Value(0)),
        listing_count=Coalesce(Subquery(listings.values("n"), output_field=IntegerField()), Value(0)),
        verified=verified_annotation(),
    )
    if struck:
        users = users.filter(strike_count__gt=0)
    return users.order_by("-date_joined", "-pk")


def transaction_list(
    *,
    q: str = "",
    status: str = "",
    currency: str = "",
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    user: User | None = None,
) -> QuerySet[Transaction]:
    """Transactions, newest first; `user` limits them to those the user bought or sold."""
    deals = Transaction.objects.all()
    if user is not None:
        deals = deals.filter(Q(buyer=user) | Q(seller=user))
    if q:
        found = Q(listing__title__icontains=q) | Q(buyer__email__icontains=q) | Q(seller__email__icontains=q)
        if (pk := _id_query(q)) is not None:
            found |= Q(pk=pk)
        deals = deals.filter(found)
    if status:
        deals = deals.filter(status=status)
    if currency:
        deals = deals.filter(currency=currency)
    if amount_min is not None:
        deals = deals.filter(amount__gte=amount_min)
    if amount_max is not None:
        deals = deals.filter(amount__lte=amount_max)
    if created_from:
        deals = deals.filter(created_at__gte=_day_start(created_from))
    if created_to:
        deals = deals.filter(created_at__lt=_day_start(created_to + timedelta(days=1)))
    return deals.select_related("listing", "buyer", "seller").order_by("-created_at", "-pk")


def own_listings(*, user: User) -> QuerySet[Listing]:
    return (
        Listing.objects.filter(seller=user)
        .annotate(seller_verified=verified_annotation("seller__"))
        .select_related("seller__seller_profile", "category")
        .order_by("-created_at", "-pk")
    )


def public_profile(*, user_id: int) -> User | None:
    """A marketplace user as other users see them: badge and counts, for the seller profile endpoint."""
    listings = (
        Listing.objects.filter(seller=OuterRef("pk"), status=ListingStatus.ACTIVE)
        .order_by()
        .values("seller")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        User.objects.filter(pk=user_id, is_staff=False, is_active=True)
        .annotate(
            verified=verified_annotation(),
            active_listings=Coalesce(Subquery(listings, output_field=IntegerField()), Value(0)),
        )
        .select_related("seller_profile")
        .first()
    )
