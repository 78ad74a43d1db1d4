"""Listings, profiles and transactions: lifecycle rules, moderation's hide/restore/remove, expiry, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import activity
from accounts.models import ActivityDay, Registration, RegistrationStatus
from marketplace import services
from marketplace.models import ListingStatus, TransactionStatus
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError, InvalidInput
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = {
    "title": "Double bed with mattress",
    "description": "Pine frame, firm mattress, two years old. Collect in Durban North.",
    "price": "2500",
    "currency": "ZAR",
    "category": "furniture",
    "region": "KwaZulu-Natal",
}


def test_a_listing_runs_thirty_days_and_counts_as_activity(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        listing = services.listing_create(seller=user, **NEW)
    assert listing.status == ListingStatus.ACTIVE
    assert listing.expires_at - listing.created_at == services.LISTING_DURATION
    assert AuditEntry.objects.filter(action="listing.create", actor=user).exists()
    activity.activity_flush(settle_seconds=0)
    day = ActivityDay.objects.get(user=user, day=timezone.localdate(listing.created_at))
    assert day.listings_posted == 1
    assert day.transactions == day.messages_sent == day.sign_ins == 0


def test_sellers_need_an_approved_registration(user):
    Registration.objects.create(user=user, canonical_email=user.email, status=RegistrationStatus.NEEDS_REVIEW)
    with pytest.raises(DomainError, match="once your registration is approved"):
        services.listing_create(seller=user, **NEW)


def test_every_bad_field_is_named(user):
    with pytest.raises(InvalidInput) as error:
        services.listing_create(
            seller=user, title="x", description="short", price="abc", currency="EUR", category="x", region=""
        )
    assert set(error.value.fields) == {"title", "description", "price", "currency", "category", "region"}


def test_removed_and_suspended_listings_cannot_be_edited_or_renewed(user):
    removed = ListingFactory(seller=user, status=ListingStatus.REMOVED)
    with pytest.raises(DomainError, match="cannot be edited"):
        services.listing_update(listing=removed, by=user, title="A brand new title")
    with pytest.raises(DomainError, match="cannot be renewed"):
        services.listing_renew(listing=removed, by=user)
    other = ListingFactory()
    with pytest.raises(DomainError, match="Only the seller"):
        services.listing_update(listing=other, by=user, title="Not mine at all")


def test_moderation_hides_restores_and_removes(user):
    listing = ListingFactory(seller=user)
    services.listing_hide(obj=listing, by=None, reason="Held")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING_REVIEW and listing.status_reason == "Held"
    services.listing_restore(obj=listing, by=None, reason="Kept")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE and listing.status_reason == ""
    services.listing_remove(obj=listing, by=None, reason="Scam")
    with time_machine.travel(listing.expires_at + timedelta(days=1)):
        services.listing_restore(obj=listing, by=None, reason="Appeal")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.EXPIRED  # restored after its 30 days: expired, not active


def test_an_administrators_suspension_outlasts_a_moderators_keep(administrator):
    listing = ListingFactory()
    services.listing_suspend(listing=listing, by=administrator, reason="Seller under investigation")
    services.listing_restore(obj=listing, by=None, reason="Kept by moderation")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SUSPENDED


def test_bulk_actions_report_each_refusal(administrator):
    active, removed, suspended = ListingFactory(), ListingFactory(status=ListingStatus.REMOVED), ListingFactory()
    services.listing_suspend(listing=suspended, by=administrator, reason="x")
    result = services.listings_bulk(
        ids=[active.pk, removed.pk, 999999], by=administrator, action="suspend", reason="Fake shop"
    )
    assert result.done == [active.pk]
    assert result.skipped == {removed.pk: "A removed listing cannot be suspended.", 999999: "not found"}
    restored = services.listings_bulk(
        ids=[suspended.pk, active.pk], by=administrator, action="restore", reason="Cleared"
    )
    assert restored.done == [suspended.pk, active.pk]
    with pytest.raises(InvalidInput):
        services.listings_bulk(ids=[active.pk], by=administrator, action="expire", reason=" ")
    expired = services.listings_bulk(ids=[active.pk], by=administrator, action="expire", reason="Sold elsewhere")
    assert expired.done == [active.pk]
    active.refresh_from_db()
    assert active.status == ListingStatus.EXPIRED and active.expires_at <= timezone.now()
    assert AuditEntry.objects.filter(action="listing.suspend", reason="Fake shop").count() == 1


def test_the_expiry_sweep_ends_listings_past_their_thirty_days():
    due = ListingFactory(expires_at=timezone.now() - timedelta(minutes=1))
    later = ListingFactory()
    assert services.listings_expire_due(batch_size=1) == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (ListingStatus.EXPIRED, ListingStatus.ACTIVE)
    assert services.listings_expire_due() == 0


def test_administrators_suspend_ban_and_reinstate_users(administrator):
    member, staff = UserFactory(), UserFactory(roles=["Moderator"])
    result = services.users_bulk(ids=[member.pk, staff.pk], by=administrator, action="suspend", reason="Scams", days=3)
    assert result.done == [member.pk] and result.skipped == {staff.pk: "not a marketplace user"}
    member.refresh_from_db()
    assert member.status == "suspended" and member.suspended_until > timezone.now() + timedelta(days=2)
    services.users_bulk(ids=[member.pk], by=administrator, action="reinstate", reason="Cleared")
    member.refresh_from_db()
    assert member.status == "active"
    services.users_bulk(ids=[member.pk], by=administrator, action="ban", reason="Fraud ring")
    member.refresh_from_db()
    assert member.status == "banned"


def test_transactions_follow_their_lifecycle(user, administrator):
    listing = ListingFactory()
    with pytest.raises(DomainError, match="own listing"):
        services.transaction_start(listing=listing, buyer=listing.seller)
    deal = services.transaction_start(listing=listing, buyer=user)
    assert deal.amount == listing.price and deal.status == TransactionStatus.PENDING
    with pytest.raises(DomainError, match="may not make this change"):
        services.transaction_set_status(deal=deal, by=user, status="paid")
    deal = services.transaction_set_status(deal=deal, by=administrator, status="paid")
    deal = services.transaction_set_status(deal=deal, by=user, status="disputed", note="Not as described")
    assert deal.disputed_at is not None
    with pytest.raises(InvalidInput, match="refunded"):
        services.transaction_set_status(deal=deal, by=administrator, status="refunded")
    deal = services.transaction_set_status(deal=deal, by=administrator, status="refunded", note="Seller agreed")
    with pytest.raises(DomainError, match="cannot become"):
        services.transaction_set_status(deal=deal, by=administrator, status="completed")
    assert AuditEntry.objects.filter(action="transaction.refunded", reason="Seller agreed").exists()


def test_a_buyers_transaction_steps_count_as_transaction_activity_and_staff_steps_do_not(user, administrator):
    listing = ListingFactory()
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        deal = services.transaction_start(listing=listing, buyer=user)
        deal = services.transaction_set_status(deal=deal, by=administrator, status="paid")
        services.transaction_set_status(deal=deal, by=user, status="completed")
        activity.activity_flush(settle_seconds=0)

    day = ActivityDay.objects.get(user=user, day=date(2026, 3, 2))
    assert day.transactions == 2  # started, then confirmed as received
    assert not ActivityDay.objects.filter(user__in=[listing.seller, administrator]).exists()


def test_profiles_are_hidden_and_restored_by_moderation(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        profile = services.profile_update(user=user, display_name="Best Deals", about="Phones and laptops.")
    services.profile_hide(obj=profile, by=None, reason="Impersonation")
    profile.refresh_from_db()
    assert profile.hidden_at is not None
    services.profile_restore(obj=profile, by=None, reason="Appeal")
    profile.refresh_from_db()
    assert profile.hidden_at is None
    with pytest.raises(InvalidInput):
        services.profile_update(user=user, display_name="x" * 81)
