"""Every write to listings, seller profiles and transactions.

Users create, edit and renew their listings and edit their profiles through the API; each of those writes calls
moderation's `content_submitted` in its transaction, so automatic detection checks every version. Moderation
hides, restores and removes content through the services registered in marketplace.apps; administrators suspend,
expire and restore listings from the marketplace pages. Every transition locks its row, guards the state and
records an audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import activity
from accounts import services as accounts_services
from accounts.identity import looks_like_contact
from accounts.models import RegistrationStatus, User
from moderation.services import content_submitted
from saypro.audit.services import audit_record
from saypro.errors import DomainError, InvalidInput

from .models import (
    Category,
    Currency,
    Listing,
    ListingStatus,
    SellerProfile,
    Transaction,
    TransactionStatus,
)
from .notices import seller_notify

LISTING_DURATION = timedelta(days=30)
# Renewal opens this long before expiry (and stays open once expired).
RENEWAL_WINDOW = timedelta(days=7)
MAX_IMAGES = 10
MAX_PRICE = Decimal("9999999999.99")
# A storage key ("listings/42/front.jpg") or an https URL: no spaces, no scripts.
_IMAGE_REF = re.compile(r"^(https://[^\s\"'<>]{4,490}|[\w][\w./-]{0,250}\.(?:jpe?g|png|webp|gif))$", re.IGNORECASE)
EDITABLE_STATUSES = (ListingStatus.ACTIVE, ListingStatus.PENDING_REVIEW, ListingStatus.EXPIRED)
LISTING_FIELDS = ("title", "description", "price", "currency", "category", "region", "images")

Status = ListingStatus


# --- Listings: validation --------------------------------------------------------------------------------


def _clean_listing(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Check and normalise listing fields; raises InvalidInput with every field's message at once."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in LISTING_FIELDS:
        if name not in values:
            if not partial and name != "images":
                errors[name] = ["This field is required."]
            continue
        value = values[name]
        if name == "title":
            title = " ".join(str(value or "").split())
            if not 5 <= len(title) <= 120:
                errors[name] = ["Use 5 to 120 characters."]
            clean[name] = title
        elif name == "description":
            text = str(value or "").strip()
            if not 10 <= len(text) <= 5000:
                errors[name] = ["Use 10 to 5,000 characters."]
            clean[name] = text
        elif name == "price":
            try:
                price = Decimal(str(value)).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                errors[name] = ["Enter a number, e.g. 1500 or 1499.99."]
                continue
            if price < 0 or price > MAX_PRICE:
                errors[name] = ["Enter a price from 0 to 9,999,999,999.99."]
            clean[name] = price
        elif name == "currency":
            if value not in Currency.values:
                errors[name] = [f"Choose one of {', '.join(Currency.values)}."]
            clean[name] = value
        elif name == "category":
            category = value if isinstance(value, Category) else Category.objects.filter(slug=value).first()
            if category is None or not category.is_active:
                errors[name] = ["Choose an active category."]
            clean[name] = category
        elif name == "region":
            region = " ".join(str(value or "").split())
            if not 2 <= len(region) <= 100:
                errors[name] = ["Enter the region (2 to 100 characters)."]
            clean[name] = region
        elif name == "images":
            images = value or []
            if not isinstance(images, list | tuple) or len(images) > MAX_IMAGES:
                errors[name] = [f"Give at most {MAX_IMAGES} image references as a list."]
            elif not all(isinstance(ref, str) and _IMAGE_REF.match(ref) for ref in images):
                errors[name] = ["Each image is an https URL or a storage key ending in .jpg, .png, .webp or .gif."]
            clean[name] = list(images) if isinstance(images, list | tuple) else []
    if errors:
        raise InvalidInput("The listing has invalid fields.", fields=errors)
    return clean


def _check_seller(seller: User) -> None:
    if not seller.is_active:
        raise DomainError("This account may not post listings.", code="account_inactive")
    registration = getattr(seller, "registration", None)
    if registration is not None and registration.status != RegistrationStatus.APPROVED:
        raise DomainError("Listings can be posted once your registration is approved.", code="not_approved")


def _lock(listing: Listing) -> Listing:
    return Listing.objects.select_for_update().get(pk=listing.pk)


def _set_status(listing: Listing, status: str, reason: str, *, extra: Sequence[str] = ()) -> None:
    listing.status = status
    listing.status_reason = reason[:300]
    listing.status_changed_at = timezone.now()
    listing.save(update_fields=["status", "status_reason", "status_changed_at", *extra])


def _visible_status(listing: Listing) -> str:
    return Status.ACTIVE if listing.expires_at > timezone.now() else Status.EXPIRED


# --- Listings: the seller's own writes -------------------------------------------------------------------


def listing_create(*, seller: User, **values: Any) -> Listing:
    """Post a listing: active at once for 30 days, then checked by automatic detection (which may hold it)."""
    _check_seller(seller)
    clean = _clean_listing(values, partial=False)
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.create(
            seller=seller,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            expires_at=now + LISTING_DURATION,
            **clean,
        )
        audit_record(actor=seller, action="listing.create", target=listing)
        content_submitted(obj=listing)
        activity.activity_record(user_id=seller.pk, feature=activity.LISTING_POSTED)
    listing.refresh_from_db()
    return listing


def listing_update(*, listing: Listing, by: User, **values: Any) -> Listing:
    clean = _clean_listing(values, partial=True)
    with transaction.atomic():
        listing = _lock(listing)
        if listing.seller_id != by.pk:
            raise DomainError("Only the seller can edit a listing.", code="not_seller")
        if listing.status not in EDITABLE_STATUSES:
            raise DomainError(
                f"A {listing.get_status_display().lower()} listing cannot be edited.", code="not_editable"
            )
        changed = [name for name, value in clean.items() if getattr(listing, name) != value]
        if not changed:
            return listing
        for name in changed:
            setattr(listing, name, clean[name])
        listing.updated_at = timezone.now()
        listing.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=by, action="listing.update", target=listing, data={"fields": changed})
        content_submitted(obj=listing)
    listing.refresh_from_db()
    return listing


def listing_renew(*, listing: Listing, by: User) -> Listing:
    """Another 30 days: from the current expiry while active, from now once expired.

    The seller renews in the app; staff renew on a seller's request (renewal requests are a messaging category).
    """
    with transaction.atomic():
        listing = _lock(listing)
        if listing.seller_id != by.pk and not by.has_perm("marketplace.renew_listing"):
            raise DomainError("Only the seller can renew a listing.", code="not_seller")
        now = timezone.now()
        if listing.status not in (Status.ACTIVE, Status.EXPIRED):
            raise DomainError(
                f"A {listing.get_status_display().lower()} listing cannot be renewed.", code="not_renewable"
            )
        if listing.status == Status.ACTIVE and listing.expires_at - now > RENEWAL_WINDOW:
            opens = timezone.localtime(listing.expires_at - RENEWAL_WINDOW)
            raise DomainError(f"Renewal opens on {opens:%d %b %Y}.", code="too_early")
        listing.expires_at = max(now, listing.expires_at) + LISTING_DURATION
        listing.renewed_at = now
        listing.renewal_count += 1
        listing.renewal_reminded_at = None
        _set_status(
            listing, Status.ACTIVE, "", extra=["expires_at", "renewed_at", "renewal_count", "renewal_reminded_at"]
        )
        audit_record(
            actor=by, action="listing.renew", target=listing, data={"expires_at": listing.expires_at.isoformat()}
        )
    return listing


# --- Listings: moderation's hide, restore and remove -----------------------------------------------------


def listing_hide(*, obj: Listing, by: User | None, reason: str) -> Listing:
    """Held for review: out of view until a moderator decides (only an active listing changes)."""
    with transaction.atomic():
        listing = _lock(obj)
        if listing.status != Status.ACTIVE:
            return listing
        _set_status(listing, Status.PENDING_REVIEW, reason)
        audit_record(actor=by, action="listing.hold", target=listing, reason=reason)
    return listing


def listing_restore(*, obj: Listing, by: User | None, reason: str) -> Listing:
    """Back in view after a "keep" decision or an appeal (an administrator's suspension stays)."""
    with transaction.atomic():
        listing = _lock(obj)
        if listing.status not in (Status.PENDING_REVIEW, Status.REMOVED):
            return listing
        _set_status(listing, _visible_status(listing), "")
        audit_record(actor=by, action="listing.restore", target=listing, reason=reason)
    return listing


def listing_remove(*, obj: Listing, by: User | None, reason: str) -> Listing:
    with transaction.atomic():
        listing = _lock(obj)
        if listing.status == Status.REMOVED:
            return listing
        _set_status(listing, Status.REMOVED, reason)
        audit_record(actor=by, action="listing.remove", target=listing, reason=reason)
    return listing


# --- Listings: administrators ----------------------------------------------------------------------------


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give the reason; it is recorded and shown to the seller.", fields={"reason": ["Required."]})
    return reason


def listing_suspend(*, listing: Listing, by: User, reason: str) -> Listing:
    reason = _require_reason(reason)
    with transaction.atomic():
        listing = _lock(listing)
        if listing.status == Status.SUSPENDED:
            return listing
        if listing.status == Status.REMOVED:
            raise DomainError("A removed listing cannot be suspended.", code="removed")
        _set_status(listing, Status.SUSPENDED, reason)
        audit_record(actor=by, action="listing.suspend", target=listing, reason=reason)
        seller_notify(listing, "suspended", reason=reason)
    return listing


def listing_expire(*, listing: Listing, by: User | None, reason: str = "") -> Listing:
    """End an active listing now (an administrator), or at its expiry (the expiry sweep, `by=None`)."""
    with transaction.atomic():
        listing = _lock(listing)
        if listing.status == Status.EXPIRED:
            return listing
        if listing.status != Status.ACTIVE:
            raise DomainError(f"A {listing.get_status_display().lower()} listing cannot expire.", code="not_active")
        now = timezone.now()
        fields = []
        if by is not None:
            listing.expires_at = min(listing.expires_at, now)
            fields.append("expires_at")
        elif listing.expires_at > now:
            return listing
        _set_status(listing, Status.EXPIRED, reason, extra=fields)
        audit_record(actor=by, action="listing.expire", target=listing, reason=reason)
        seller_notify(listing, "expired", reason=reason)
    return listing


def listing_unsuspend(*, listing: Listing, by: User, reason: str) -> Listing:
    """Lift an administrator's suspension. Removals are moderators' decisions: the seller appeals those."""
    reason = _require_reason(reason)
    with transaction.atomic():
        listing = _lock(listing)
        if listing.status in (Status.ACTIVE, Status.EXPIRED):
            return listing
        if listing.status != Status.SUSPENDED:
            raise DomainError(
                f"Only suspended listings are restored here; this one is {listing.get_status_display().lower()}.",
                code="not_suspended",
            )
        _set_status(listing, _visible_status(listing), reason)
        audit_record(actor=by, action="listing.unsuspend", target=listing, reason=reason)
    return listing


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


BULK_LISTING_ACTIONS: dict[str, Callable[..., Listing]] = {
    "suspend": listing_suspend,
    "expire": listing_expire,
    "restore": listing_unsuspend,
}


def listings_bulk(*, ids: Sequence[int], by: User, action: str, reason: str) -> BulkResult:
    """Apply one administrator action to many listings; each in its own transaction, refusals reported per row."""
    if action not in BULK_LISTING_ACTIONS:
        raise InvalidInput("Choose suspend, expire or restore.", fields={"action": ["Unknown action."]})
    reason = _require_reason(reason)
    service = BULK_LISTING_ACTIONS[action]
    result = BulkResult()
    listings = Listing.objects.in_bulk(list(ids))
    for pk in ids:
        listing = listings.get(pk)
        if listing is None:
            result.skipped[pk] = "not found"
            continue
        try:
            service(listing=listing, by=by, reason=reason)
        except DomainError as exc:
            result.skipped[pk] = exc.message
        else:
            result.done.append(pk)
    return result


def listings_expire_due(*, batch_size: int = 500) -> int:
    """The expiry sweep: active listings past their expiry become expired, in bounded batches."""
    count = 0
    while True:
        due = list(
            Listing.objects.filter(status=Status.ACTIVE, expires_at__lte=timezone.now())
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            return count
        for listing in Listing.objects.filter(pk__in=due):
            if listing_expire(listing=listing, by=None).status == Status.EXPIRED:
                count += 1
        if len(due) < batch_size:
            return count


def listings_remind_renewal(*, batch_size: int = 500) -> int:
    """Tell each seller once, when the renewal window opens, that their listing is about to expire."""
    count = 0
    while True:
        now = timezone.now()
        due = list(
            Listing.objects.filter(
                status=Status.ACTIVE,
                expires_at__gt=now,
                expires_at__lte=now + RENEWAL_WINDOW,
                renewal_reminded_at__isnull=True,
            ).values_list("pk", flat=True)[:batch_size]
        )
        for pk in due:
            with transaction.atomic():
                # Compare-and-set: two sweeps at once remind once.
                if Listing.objects.filter(pk=pk, renewal_reminded_at__isnull=True).update(renewal_reminded_at=now):
                    seller_notify(Listing.objects.select_related("seller", "category").get(pk=pk), "renewal_due")
                    count += 1
        if len(due) < batch_size:
            return count


# --- Seller profiles ---------------------------------------------------------------------------------------


def profile_get(user_id: int) -> SellerProfile | None:
    """The profile of a marketplace user (created empty on first use), or None for no such user."""
    if not User.objects.filter(pk=user_id, is_staff=False).exists():
        return None
    profile, _ = SellerProfile.objects.get_or_create(user_id=user_id)
    return profile


def profile_update(*, user: User, display_name: str | None = None, about: str | None = None) -> SellerProfile:
    errors: dict[str, list[str]] = {}
    if display_name is not None and len(display_name.strip()) > 80:
        errors["display_name"] = ["Use at most 80 characters."]
    elif display_name is not None and looks_like_contact(display_name):
        # Shown to everyone: buyers reach a seller through SayPro, never an address or number in a name.
        errors["display_name"] = ["Leave out e-mail addresses and phone numbers: everyone can see this name."]
    if about is not None and len(about.strip()) > 1000:
        errors["about"] = ["Use at most 1,000 characters."]
    if errors:
        raise InvalidInput("The profile has invalid fields.", fields=errors)
    with transaction.atomic():
        profile, _ = SellerProfile.objects.select_for_update().get_or_create(user=user)
        changed = []
        for name, value in (("display_name", display_name), ("about", about)):
            if value is not None and getattr(profile, name) != value.strip():
                setattr(profile, name, value.strip())
                changed.append(name)
        if not changed:
            return profile
        profile.updated_at = timezone.now()
        profile.save(update_fields=[*changed, "updated_at"])
        audit_record(actor=user, action="profile.update", target=profile, data={"fields": changed})
        content_submitted(obj=profile)
    profile.refresh_from_db()
    return profile


def profile_hide(*, obj: SellerProfile, by: User | None, reason: str) -> SellerProfile:
    with transaction.atomic():
        profile = SellerProfile.objects.select_for_update().get(pk=obj.pk)
        if profile.hidden_at is not None:
            return profile
        profile.hidden_at = timezone.now()
        profile.hidden_reason = reason[:300]
        profile.save(update_fields=["hidden_at", "hidden_reason"])
        audit_record(actor=by, action="profile.hide", target=profile, reason=reason)
    return profile


def profile_restore(*, obj: SellerProfile, by: User | None, reason: str) -> SellerProfile:
    with transaction.atomic():
        profile = SellerProfile.objects.select_for_update().get(pk=obj.pk)
        if profile.hidden_at is None:
            return profile
        profile.hidden_at = None
        profile.hidden_reason = ""
        profile.save(update_fields=["hidden_at", "hidden_reason"])
        audit_record(actor=by, action="profile.restore", target=profile, reason=reason)
    return profile


# --- Transactions --------------------------------------------------------------------------------------------

TStatus = TransactionStatus
# Allowed status changes, and who may make each: the buyer confirms receipt or disputes; staff do the rest.
TRANSITIONS: dict[str, dict[str, str]] = {
    TStatus.PENDING: {TStatus.PAID: "staff", TStatus.REFUNDED: "staff"},
    TStatus.PAID: {TStatus.COMPLETED: "buyer", TStatus.DISPUTED: "buyer", TStatus.REFUNDED: "staff"},
    TStatus.COMPLETED: {TStatus.DISPUTED: "buyer"},
    TStatus.DISPUTED: {TStatus.COMPLETED: "staff", TStatus.REFUNDED: "staff"},
    TStatus.REFUNDED: {},
}
STATUS_TIMES = {
    TStatus.PAID: "paid_at",
    TStatus.COMPLETED: "completed_at",
    TStatus.DISPUTED: "disputed_at",
    TStatus.REFUNDED: "refunded_at",
}


def transaction_start(*, listing: Listing, buyer: User) -> Transaction:
    """The buyer commits to buy an active listing at its price; payment is recorded next."""
    with transaction.atomic():
        listing = _lock(listing)
        if listing.seller_id == buyer.pk:
            raise DomainError("You cannot buy your own listing.", code="own_listing")
        if listing.status != Status.ACTIVE:
            raise DomainError("This listing is not available.", code="not_available")
        if not buyer.is_active:
            raise DomainError("This account may not buy.", code="account_inactive")
        now = timezone.now()
        deal = Transaction.objects.create(
            listing=listing,
            buyer=buyer,
            seller_id=listing.seller_id,
            amount=listing.price,
            currency=listing.currency,
            created_at=now,
            updated_at=now,
        )
        audit_record(actor=buyer, action="transaction.start", target=deal)
        activity.activity_record(user_id=buyer.pk, feature=activity.TRANSACTION)
    return deal


def transaction_set_status(*, deal: Transaction, by: User, status: str, note: str = "") -> Transaction:
    """Move a transaction along TRANSITIONS; staff need marketplace.manage_transactions."""
    if status not in TStatus.values:
        raise InvalidInput("Unknown status.", fields={"status": [f"Choose one of {', '.join(TStatus.values)}."]})
    with transaction.atomic():
        deal = Transaction.objects.select_for_update().get(pk=deal.pk)
        if deal.status == status:
            return deal
        allowed = TRANSITIONS[deal.status]
        if status not in allowed:
            raise DomainError(
                f"A {deal.get_status_display().lower()} transaction cannot become {TStatus(status).label.lower()}.",
                code="forbidden_transition",
            )
        is_staff = by.has_perm("marketplace.manage_transactions")
        if not is_staff and not (allowed[status] == "buyer" and deal.buyer_id == by.pk):
            raise DomainError("You may not make this change.", code="not_allowed")
        if is_staff and status == TStatus.REFUNDED and not (note or "").strip():
            raise InvalidInput("Say why the money is refunded.", fields={"note": ["A note is required."]})
        now = timezone.now()
        old = deal.status
        deal.status = status
        deal.updated_at = now
        deal.note = (note or "").strip()[:300]
        setattr(deal, STATUS_TIMES[TStatus(status)], now)
        deal.save(update_fields=["status", "updated_at", "note", STATUS_TIMES[TStatus(status)]])
        audit_record(actor=by, action=f"transaction.{status}", target=deal, reason=deal.note, data={"from": old})
        if deal.buyer_id == by.pk:
            activity.activity_record(user_id=by.pk, feature=activity.TRANSACTION)
    return deal


# --- Marketplace users: administrators' bulk actions -----------------------------------------------------------

BULK_USER_ACTIONS = ("suspend", "ban", "reinstate")


def users_bulk(*, ids: Sequence[int], by: User, action: str, reason: str, days: int | None = None) -> BulkResult:
    """Suspend (for `days`, or until reinstated), ban or reinstate marketplace users through accounts.services,
    which records each change and tells the user. Staff accounts are never touched from here."""
    if action not in BULK_USER_ACTIONS:
        raise InvalidInput("Choose suspend, ban or reinstate.", fields={"action": ["Unknown action."]})
    reason = _require_reason(reason)
    until = timezone.now() + timedelta(days=days) if action == "suspend" and days else None
    result = BulkResult()
    users = User.objects.filter(is_staff=False).in_bulk(list(ids))
    for pk in ids:
        user = users.get(pk)
        if user is None:
            result.skipped[pk] = "not a marketplace user"
            continue
        try:
            if action == "suspend":
                accounts_services.user_suspend(user=user, by=by, reason=reason, until=until)
            elif action == "ban":
                accounts_services.user_ban(user=user, by=by, reason=reason)
            else:
                accounts_services.user_reinstate(user=user, by=by, reason=reason)
        except DomainError as exc:
            result.skipped[pk] = exc.message
        else:
            result.done.append(pk)
    return result
