"""The administrators' marketplace pages: who may open them, search and filters, bulk actions, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.models import Listing, ListingStatus, Transaction
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("persona", "listings", "users", "transactions"),
    [
        ("user", 403, 403, 403),
        ("outsider", 403, 403, 403),
        ("manager", 403, 403, 403),
        ("agent", 200, 403, 200),
        ("moderator", 200, 403, 200),
        ("administrator", 200, 200, 200),
    ],
)
def test_who_opens_which_page(as_, persona, listings, users, transactions):
    client = as_(persona)
    assert client.get("/dashboard/marketplace/").status_code == listings
    assert client.get("/dashboard/marketplace/users/").status_code == users
    assert client.get("/dashboard/marketplace/transactions/").status_code == transactions


def test_search_and_filters(as_):
    now = timezone.now()
    verified = UserFactory(email="cape@example.com", email_verified_at=now, phone_verified_at=now)
    sofa = ListingFactory(title="Leather sofa, three seater", seller=verified)
    phone = ListingFactory(title="Nokia 105 dual SIM")
    hidden = ListingFactory(title="Another Nokia", status=ListingStatus.PENDING_REVIEW)
    client = as_("administrator")
    assert rows(client.get("/dashboard/marketplace/?q=nokia")) == [hidden.pk, phone.pk]
    assert rows(client.get(f"/dashboard/marketplace/?q=%23{sofa.pk}")) == [sofa.pk]
    assert rows(client.get("/dashboard/marketplace/?status=pending_review")) == [hidden.pk]
    assert rows(client.get("/dashboard/marketplace/?seller_verified=yes")) == [sofa.pk]
    assert rows(client.get("/dashboard/marketplace/?q=cape%40example")) == [sofa.pk]
    users = client.get("/dashboard/marketplace/users/?verified=yes")
    assert rows(users) == [verified.pk]


def test_bulk_suspend_needs_a_reason_and_reports_the_result(as_):
    first, second = ListingFactory(), ListingFactory()
    client = as_("administrator")
    response = client.post(
        "/dashboard/marketplace/listings/bulk/", {"ids": [first.pk, second.pk], "action": "suspend"}, follow=True
    )
    assert "Give the reason; it is recorded." in response.content.decode()
    response = client.post(
        "/dashboard/marketplace/listings/bulk/",
        {"ids": [first.pk, second.pk], "action": "suspend", "reason": "Counterfeit shop"},
        follow=True,
    )
    assert "Suspended 2 listings." in response.content.decode()
    first.refresh_from_db()
    assert first.status == ListingStatus.SUSPENDED
    assert (
        as_("moderator")
        .post("/dashboard/marketplace/listings/bulk/", {"ids": [first.pk], "action": "restore", "reason": "x"})
        .status_code
        == 403
    )


def test_bulk_ban_of_users(as_):
    member = UserFactory()
    response = as_("administrator").post(
        "/dashboard/marketplace/users/bulk/", {"ids": [member.pk], "action": "ban", "reason": "Fraud ring"}, follow=True
    )
    assert "Banned 1 user." in response.content.decode()
    member.refresh_from_db()
    assert member.status == "banned"


def test_transaction_status_is_changed_on_its_page(as_, administrator):
    listing = ListingFactory()
    deal = Transaction.objects.create(
        listing=listing, buyer=UserFactory(), seller=listing.seller, amount=10, currency="ZAR"
    )
    assert (
        as_("moderator").post(f"/dashboard/marketplace/transactions/{deal.pk}/", {"status": "paid"}).status_code == 403
    )
    deal.refresh_from_db()
    assert deal.status == "pending"
    as_("administrator").post(f"/dashboard/marketplace/transactions/{deal.pk}/", {"status": "paid"})
    deal.refresh_from_db()
    assert deal.status == "paid"
    page = as_("administrator").get(f"/dashboard/marketplace/transactions/{deal.pk}/")
    assert [value for value, _ in page.context["form"].fields["status"].choices] == [
        "completed",
        "disputed",
        "refunded",
    ]


@pytest.mark.parametrize("count", [3, 30])
def test_list_pages_query_count_does_not_grow_with_the_rows(as_, count, django_assert_max_num_queries):
    for listing in ListingFactory.create_batch(count):
        Transaction.objects.create(
            listing=listing, buyer=UserFactory(), seller=listing.seller, amount=5, currency="ZAR"
        )
    client = as_("administrator")
    for url in ("/dashboard/marketplace/", "/dashboard/marketplace/users/", "/dashboard/marketplace/transactions/"):
        with django_assert_max_num_queries(10):
            response = client.get(url)
        assert len(rows(response)) >= count


def test_listing_and_user_pages_show_the_record(as_):
    listing = ListingFactory()
    client = as_("moderator")
    assert client.get(f"/dashboard/marketplace/listings/{listing.pk}/").status_code == 200
    page = client.get(f"/dashboard/marketplace/users/{listing.seller_id}/")
    assert page.status_code == 200 and listing.title.encode() in page.content
    assert client.get("/dashboard/marketplace/users/999999/").status_code == 404


def test_a_support_agent_renews_a_listing_for_its_seller(as_):
    listing = ListingFactory()
    client = as_("agent")
    early = client.post(f"/dashboard/marketplace/listings/{listing.pk}/renew/", follow=True)
    assert "Renewal opens on" in early.content.decode()
    Listing.objects.filter(pk=listing.pk).update(expires_at=timezone.now() + timedelta(days=2))
    done = client.post(f"/dashboard/marketplace/listings/{listing.pk}/renew/", follow=True)
    assert f"Listing #{listing.pk} renewed until" in done.content.decode()
    listing.refresh_from_db()
    assert listing.renewal_count == 1
    assert as_("moderator").post(f"/dashboard/marketplace/listings/{listing.pk}/renew/").status_code == 403
