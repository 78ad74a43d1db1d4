"""Listings and seller profiles as moderation kinds ("listing", "profile"), with the listing's price rule."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from moderation.models import DetectionSignal, Reason
from moderation.registry import ContentImage, Finding, moderatable_register
from saypro.localtime import local_text

from . import services
from .models import Listing, SellerProfile
from .selectors import category_median_price

# A price under a fifth of the category's median is the classic bait of an advance-fee scam.
PRICE_LOW_RATIO = Decimal("0.2")
PRICE_HIGH_RATIO = Decimal("10")
PRICE_LOW_WEIGHT = 35
PRICE_HIGH_WEIGHT = 15
# Listing photos live under this folder of the default storage; ID documents and attachments live elsewhere, and a
# reference outside it is never served, so that a seller cannot show moderators someone else's private file.
IMAGE_FOLDER = "listings/"


def listing_text(listing: Listing) -> str:
    return f"{listing.title}\n{listing.description}"


def price_findings(listing: Listing, text: str) -> list[Finding]:
    """Price far from the category's median (a free item, price 0, is a giveaway, not a signal)."""
    median = category_median_price(category_id=listing.category_id, currency=listing.currency)
    if median is None or median <= 0 or listing.price <= 0:
        return []
    ratio = listing.price / median
    detail = f"{listing.price:,.2f} {listing.currency} against a median of {median:,.2f} ({ratio:.0%})"
    if ratio < PRICE_LOW_RATIO:
        return [Finding(DetectionSignal.Code.PRICE, Reason.FRAUD, PRICE_LOW_WEIGHT, f"far below: {detail}")]
    if ratio > PRICE_HIGH_RATIO:
        return [Finding(DetectionSignal.Code.PRICE, Reason.OTHER, PRICE_HIGH_WEIGHT, f"far above: {detail}")]
    return []


def listing_facts(listing: Listing) -> list[tuple[str, str]]:
    return [
        ("Price", f"{listing.price:,.2f} {listing.currency}"),
        ("Category", str(listing.category)),
        ("Region", listing.region),
        ("Status", listing.get_status_display()),
        ("Posted", local_text(listing.created_at)),
        ("Images", str(len(listing.images))),
    ]


def listing_images(listing: Listing) -> list[ContentImage]:
    images = []
    for ref in listing.images:
        if ref.startswith("https://"):
            images.append(ContentImage(reference=ref, url=ref))
        elif ref.startswith(IMAGE_FOLDER) and ".." not in ref.split("/"):
            images.append(ContentImage(reference=ref, key=ref))
        else:
            images.append(ContentImage(reference=ref))
    return images


def profile_text(profile: SellerProfile) -> str:
    return f"{profile.display_name}\n{profile.about}".strip()


def register() -> None:
    moderatable_register(
        Listing,
        kind="listing",
        text=listing_text,
        author=lambda listing: listing.seller,
        hide=services.listing_hide,
        restore=services.listing_restore,
        remove=services.listing_remove,
        describe=lambda listing: f"Listing #{listing.pk}: {listing.title}",
        url=lambda listing: reverse("marketplace:listing", args=[listing.pk]),
        facts=listing_facts,
        images=listing_images,
        lookup=lambda pk: Listing.objects.select_related("seller", "category").filter(pk=pk).first(),
        detectors=[price_findings],
    )
    moderatable_register(
        SellerProfile,
        kind="profile",
        text=profile_text,
        author=lambda profile: profile.user,
        hide=services.profile_hide,
        restore=services.profile_restore,
        describe=lambda profile: f"Profile of {profile.display_name or profile.user.get_full_name()}",
        url=lambda profile: reverse("marketplace:user", args=[profile.pk]),
        facts=lambda profile: [("Hidden", "yes" if profile.hidden_at else "no")],
        # Users flag a profile by the user's id; a user who never edited theirs still has one to flag.
        lookup=services.profile_get,
    )
