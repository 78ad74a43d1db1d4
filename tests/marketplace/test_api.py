"""The marketplace API: a user's own listings, profile and transactions; sellers' public profiles with the badge."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.models import Listing, ListingStatus, Transaction
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = {
    "title": "Samsung Galaxy A54 128GB",
    "description": "Used for six months, with box and charger. Collect in Sandton.",
    "price": "4500.00",
    "currency": "ZAR",
    "category": "phones",
    "region": "Gauteng",
    "images": ["listings/front.jpg", "https://img.example.com/back.png"],
}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_posts_edits_and_lists_own_listings(user, django_capture_on_commit_callbacks):
    client = api(user)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/listings/", NEW, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "active" and body["category"] == "phones" and body["price"] == "4500.00"
    # No display name yet: a neutral name, never one taken from the account.
    assert body["seller"] == {"id": user.pk, "name": f"SayPro member #{user.pk}", "verified": False}
    listing_id = body["id"]
    changed = client.patch(f"/api/v1/listings/{listing_id}/", {"price": "4200"}, format="json")
    assert changed.status_code == 200 and changed.json()["price"] == "4200.00"
    ListingFactory()  # someone else's
    assert [row["id"] for row in client.get("/api/v1/listings/").json()["results"]] == [listing_id]


def test_someone_elses_listing_is_not_found(user):
    other = ListingFactory()
    client = api(user)
    assert client.get(f"/api/v1/listings/{other.pk}/").status_code == 404
    assert client.patch(f"/api/v1/listings/{other.pk}/", {"price": "1"}, format="json").status_code == 404
    assert client.post(f"/api/v1/listings/{other.pk}/renew/").status_code == 404


def test_bad_listings_get_field_messages(user):
    response = api(user).post(
        "/api/v1/listings/",
        {**NEW, "title": "abc", "category": "weapons", "images": ["javascript:alert(1)"], "price": "-4"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"price"}
    response = api(user).post("/api/v1/listings/", {**NEW, "title": "abc", "category": "weapons"}, format="json")
    assert set(response.json()["error"]["fields"]) == {"title", "category"}
    response = api(user).post("/api/v1/listings/", {**NEW, "images": ["javascript:alert(1)"]}, format="json")
    assert set(response.json()["error"]["fields"]) == {"images"}


def test_renewal_opens_a_week_before_expiry(user):
    listing = ListingFactory(seller=user)
    client = api(user)
    early = client.post(f"/api/v1/listings/{listing.pk}/renew/")
    assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
    with time_machine.travel(listing.expires_at - timedelta(days=3)):
        renewed = client.post(f"/api/v1/listings/{listing.pk}/renew/")
    assert renewed.status_code == 200 and renewed.json()["renewal_count"] == 1
    listing.refresh_from_db()
    assert listing.expires_at > timezone.now() + timedelta(days=50)


def test_buying_and_confirming_receipt(user, administrator):
    listing = ListingFactory()
    client = api(user)
    started = client.post("/api/v1/transactions/", {"listing": listing.pk}, format="json")
    assert started.status_code == 201 and started.json()["role"] == "buyer" and started.json()["status"] == "pending"
    deal = Transaction.objects.get()
    too_soon = client.post(f"/api/v1/transactions/{deal.pk}/status/", {"status": "completed"}, format="json")
    assert too_soon.status_code == 409
    from marketplace import services

    services.transaction_set_status(deal=deal, by=administrator, status="paid")
    done = client.post(f"/api/v1/transactions/{deal.pk}/status/", {"status": "completed"}, format="json")
    assert done.status_code == 200 and done.json()["completed_at"] is not None
    seller_view = api(listing.seller).get("/api/v1/transactions/").json()["results"]
    assert [(row["id"], row["role"]) for row in seller_view] == [(deal.pk, "seller")]
    assert api(UserFactory()).get(f"/api/v1/transactions/{deal.pk}/").status_code == 404
    own = client.post("/api/v1/transactions/", {"listing": 999999}, format="json")
    assert own.status_code == 400 and own.json()["error"]["fields"] == {"listing": ["Not found."]}


def test_the_seller_profile_shows_the_verified_badge(user, django_capture_on_commit_callbacks):
    now = timezone.now()
    seller = UserFactory(email_verified_at=now, phone_verified_at=now, region="Western Cape")
    ListingFactory(seller=seller)
    ListingFactory(seller=seller, status=ListingStatus.REMOVED)
    body = api(user).get(f"/api/v1/sellers/{seller.pk}/").json()
    assert body["verified"] is True and body["active_listings"] == 1 and body["region"] == "Western Cape"
    with django_capture_on_commit_callbacks(execute=True):
        changed = api(seller).patch("/api/v1/profile/", {"display_name": "Cape Phones", "about": "Phones since 2012."})
    assert changed.status_code == 200 and changed.json()["name"] == "Cape Phones"
    staff = UserFactory(roles=["Moderator"])
    assert api(user).get(f"/api/v1/sellers/{staff.pk}/").status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_list_endpoints_query_count_does_not_grow_with_the_rows(user, rows, django_assert_max_num_queries):
    listings = ListingFactory.create_batch(rows, seller=user)
    for listing in listings:
        Transaction.objects.create(
            listing=listing, buyer=UserFactory(), seller=user, amount=listing.price, currency=listing.currency
        )
    client = api(user)
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/v1/listings/").json()["results"]) == rows
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/v1/transactions/").json()["results"]) == rows
    assert Listing.objects.count() == rows
