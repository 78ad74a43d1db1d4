"""What other users see of a person: a display name or a neutral one, never an e-mail address or phone number."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from accounts import roles
from accounts.identity import looks_like_contact, public_name
from marketplace import services
from marketplace.models import SellerProfile
from messaging import services as messaging
from saypro.errors import InvalidInput
from support import services as support
from support.models import Channel
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_no_contact(body: object, *contacts: str) -> None:
    text = str(body)
    for contact in contacts:
        assert contact not in text, f"{contact!r} published in {text}"


@pytest.mark.parametrize("full_name", ["", "Thandi Nkosi"])
def test_a_seller_without_a_display_name_is_shown_by_a_neutral_name(user, full_name):
    seller = UserFactory(email="thandi.nkosi@example.com", full_name=full_name, phone="+27821234567")
    listing = ListingFactory(seller=seller)

    profile = api(user).get(f"/api/v1/sellers/{seller.pk}/").json()
    own_listing = api(seller).get(f"/api/v1/listings/{listing.pk}/").json()

    assert profile["name"] == own_listing["seller"]["name"] == f"SayPro member #{seller.pk}"
    assert_no_contact(profile, "thandi.nkosi", "example.com", "821234567")
    assert_no_contact(own_listing["seller"], "thandi.nkosi", "example.com", "821234567")


def test_a_hidden_or_contact_like_display_name_falls_back_to_the_neutral_name(user):
    seller = UserFactory(email="seller@example.com")
    SellerProfile.objects.create(user=seller, display_name="call 082 123 4567")  # written before the rule
    assert api(user).get(f"/api/v1/sellers/{seller.pk}/").json()["name"] == f"SayPro member #{seller.pk}"


def test_the_chosen_display_name_is_shown(user, django_capture_on_commit_callbacks):
    seller = UserFactory(email="seller@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(user=seller, display_name="Cape Phones")
    assert api(user).get(f"/api/v1/sellers/{seller.pk}/").json()["name"] == "Cape Phones"


@pytest.mark.parametrize(
    "name", ["sales@capephones.example", "sales at capephones dot com", "+27 82 123 4567", "WhatsApp 0821234567"]
)
def test_a_display_name_cannot_be_an_email_address_or_phone_number(name):
    seller = UserFactory(email="seller@example.com")
    with pytest.raises(InvalidInput) as refused:
        services.profile_update(user=seller, display_name=name)
    assert "display_name" in refused.value.fields
    response = api(seller).patch("/api/v1/profile/", {"display_name": name}, format="json")
    assert response.status_code == 400 and "display_name" in response.json()["error"]["fields"]


@pytest.mark.parametrize("name", ["Cape Phones", "Shop 24", "Bikes & More (Durban)", "iPhone 15 Pro dealer"])
def test_ordinary_names_are_not_taken_for_contacts(name):
    assert not looks_like_contact(name)
    assert public_name(user_id=7, display_name=name) == name


def test_a_staff_member_without_a_name_answers_as_the_team_not_by_e_mail(user):
    agent = UserFactory(email="lindiwe.agent@saypro.example", full_name="", roles=[roles.SUPPORT_AGENT])
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(user=user, body="Where is my refund for the bike?")
    messaging.reply_send(conversation=conversation, by=agent, body="It is on its way.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = support.ticket_create(requester=user, subject="Payout", body="Not arrived.", channel=Channel.WEB)
    support.ticket_reply(ticket=ticket, by=agent, body="Checking now.")

    thread = api(user).get(f"/api/v1/conversations/{conversation.pk}/").json()
    replies = api(user).get(f"/api/v1/support/tickets/{ticket.pk}/").json()

    assert_no_contact(thread, "lindiwe.agent", "saypro.example")
    assert_no_contact(replies, "lindiwe.agent", "saypro.example")
    assert [m["author"] for m in thread["messages"] if m["body"] == "It is on its way."] == ["SayPro"]
