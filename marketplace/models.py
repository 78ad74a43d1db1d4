"""What marketplace users post and trade: ad categories, listings, seller profiles and transactions.

Every change goes through marketplace.services; moderation acts on listings and profiles through the hide,
restore and remove services registered with moderation.registry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Currency(models.TextChoices):
    ZAR = "ZAR", "South African rand"
    NGN = "NGN", "Nigerian naira"
    KES = "KES", "Kenyan shilling"
    GHS = "GHS", "Ghanaian cedi"
    EGP = "EGP", "Egyptian pound"
    USD = "USD", "US dollar"


class Category(models.Model):
    """An ad category (phones, vehicles, property, …), managed by administrators."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True, help_text="Inactive categories take no new listings.")
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ListingStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", "Pending review"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REMOVED = "removed", "Removed"
    SUSPENDED = "suspended", "Suspended"


# Seen by buyers: every other status hides the listing from the marketplace.
PUBLIC_STATUSES = (ListingStatus.ACTIVE,)


class Listing(models.Model):
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=5000)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="listings")
    region = models.CharField(max_length=100)
    images = models.JSONField(default=list, blank=True, help_text="Image references (storage keys or URLs).")
    status = models.CharField(max_length=20, choices=ListingStatus.choices, default=ListingStatus.ACTIVE)
    # Why the listing is not active (suspension, removal, hold), as staff wrote it.
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    renewed_at = models.DateTimeField(null=True, blank=True)
    renewal_count = models.PositiveIntegerField(default=0)
    # When the seller was told the renewal window opened; cleared by a renewal, so each period reminds once.
    renewal_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["seller", "-created_at"], name="listing_seller"),
            models.Index(fields=["status", "-created_at"], name="listing_status"),
            # The expiry sweep reads only active listings by deadline.
            models.Index(fields=["expires_at"], name="listing_expiry", condition=Q(status="active")),
            # The category's median price for the price rule.
            models.Index(fields=["category", "currency", "created_at"], name="listing_category_price"),
            models.Index(fields=["created_at"], name="listing_created"),
        ]
        permissions = [
            ("manage_listings", "Can suspend, expire and restore listings"),
            ("renew_listing", "Can renew a listing on the seller's request"),
            ("manage_marketplace_users", "Can suspend or ban marketplace users from the marketplace pages"),
        ]

    def __str__(self) -> str:
        return f"Listing #{self.pk}: {self.title}"

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


class SellerProfile(models.Model):
    """What other users see of a user: display name and about text. Its key is the user's, so the profile of
    user 42 is profile 42 (for flags and the API)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="seller_profile"
    )
    display_name = models.CharField(max_length=80, blank=True)
    about = models.TextField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # Hidden by moderation: the public profile shows neither name nor about text.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Profile of user #{self.pk}"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    COMPLETED = "completed", "Completed"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"


class Transaction(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="transactions")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sales")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=12, choices=TransactionStatus.choices, default=TransactionStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="The last status change's reason.")

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="transaction_buyer"),
            models.Index(fields=["seller", "-created_at"], name="transaction_seller"),
            models.Index(fields=["status", "-created_at"], name="transaction_status"),
            models.Index(fields=["created_at"], name="transaction_created"),
        ]
        permissions = [("manage_transactions", "Can change the status of transactions")]

    def __str__(self) -> str:
        return f"Transaction #{self.pk} ({self.amount} {self.currency})"
