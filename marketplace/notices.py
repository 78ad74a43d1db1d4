"""What a seller is told when an administrator or the expiry sweep changes their listing's status: a message from
the team in their conversations (messaging), e-mailed like any reply, which they can answer. Called inside the
transaction of the change. A moderator's removal is told by moderation's own statement of reasons, which carries
the appeal."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from messaging.models import Category as MessageCategory
from messaging.services import listing_notice_send
from saypro.mail import render_text

from .models import Listing

# Which message category each notice counts under in the category mix (004): a suspension is a policy matter,
# an expiry or a renewal is a renewal request.
NOTICES = {
    "suspended": MessageCategory.POLICY,
    "expired": MessageCategory.RENEWAL,
    "renewal_due": MessageCategory.RENEWAL,
}


def seller_notify(listing: Listing, notice: str, *, reason: str = "") -> None:
    subject, body = render_text(
        f"marketplace/notices/{notice}.txt",
        {
            "listing": listing,
            "reason": reason,
            "expires_at": timezone.localtime(listing.expires_at),
            "site_url": settings.SITE_URL,
        },
    )
    listing_notice_send(
        user=listing.seller,
        subject=subject,
        body=body,
        listing_ref=str(listing.pk),
        ad_category=listing.category.name,
        category=NOTICES[notice],
    )
