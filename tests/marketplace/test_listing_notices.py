"""A seller hears of an administrator's or the expiry sweep's change to their listing as a message from the team
they can answer (004): suspension, expiry and the opening of the renewal window; the notices count as
admin-initiated messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from marketplace import services
from marketplace.models import ListingStatus
from messaging import services as messaging
from messaging.models import Category, Conversation, Initiator, Message, MessageKind, Status
from tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def notices_of(listing) -> list[Message]:
    return list(
        Message.objects.filter(conversation__listing_ref=str(listing.pk), kind=MessageKind.REPLY).order_by("pk")
    )


def test_a_suspension_reaches_the_seller_as_a_message_and_an_email(administrator, django_capture_on_commit_callbacks):
    listing = ListingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_suspend(listing=listing, by=administrator, reason="The photos show a prohibited item.")

    [notice] = notices_of(listing)
    conversation = notice.conversation
    assert (conversation.user, conversation.initiated_by, conversation.status) == (
        listing.seller, Initiator.STAFF, Status.WAITING,
    )  # fmt: skip
    assert conversation.category == Category.POLICY and conversation.ad_category == listing.category.name
    assert "suspended" in conversation.subject and "prohibited item" in notice.body
    [email] = [message for message in mail.outbox if message.to == [listing.seller.email]]
    assert "prohibited item" in email.body


def test_the_renewal_reminder_comes_once_and_the_expiry_joins_its_conversation(django_capture_on_commit_callbacks):
    listing = ListingFactory(expires_at=timezone.now() + timedelta(days=3))
    later = ListingFactory(expires_at=timezone.now() + timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.listings_remind_renewal() == 1
        assert services.listings_remind_renewal() == 0
    [reminder] = notices_of(listing)
    assert "expires soon" in reminder.conversation.subject and not notices_of(later)

    listing.__class__.objects.filter(pk=listing.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.listings_expire_due() == 1
    reminder_notice, expiry_notice = notices_of(listing)
    assert expiry_notice.conversation_id == reminder_notice.conversation_id
    assert "expired" in expiry_notice.body
    assert Conversation.objects.filter(listing_ref=str(listing.pk)).count() == 1


def test_a_renewal_lets_the_next_period_remind_again(django_capture_on_commit_callbacks):
    listing = ListingFactory(expires_at=timezone.now() + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        services.listings_remind_renewal()
        services.listing_renew(listing=listing, by=listing.seller)
    listing.refresh_from_db()
    assert listing.renewal_reminded_at is None and listing.status == ListingStatus.ACTIVE


def test_a_notice_never_lands_in_a_conversation_where_the_seller_waits_for_an_answer(
    administrator, django_capture_on_commit_callbacks
):
    listing = ListingFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_suspend(listing=listing, by=administrator, reason="Duplicate of listing 12.")
    first = notices_of(listing)[0].conversation
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(conversation=first, user=listing.seller, body="It is not a duplicate, see the serial.")
        services.listing_unsuspend(listing=listing, by=administrator, reason="Checked")
        services.listing_expire(listing=listing, by=administrator, reason="Sold, as the seller said.")
    expiry = notices_of(listing)[-1]
    assert expiry.conversation_id != first.pk and "Sold, as the seller said." in expiry.body
