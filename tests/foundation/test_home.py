"""`/` sends each person to where their day starts, and the site has an icon."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts import roles
from accounts.models import RegistrationStatus
from tests.factories import RegistrationFactory, UserFactory


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("manager", "dashboard:home"),
        ("administrator", "dashboard:home"),
        ("reviewer", "accounts:queue"),
        ("moderator", "moderation:home"),
        ("agent", "messaging:home"),
        ("user", "messages:list"),
    ],
)
def test_the_root_sends_each_role_to_its_own_page(as_, persona, landing, settings):
    settings.STAFF_2FA_REQUIRED = False  # the landing page itself, not the two-factor set-up before it
    response = as_(persona).get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse(landing)
    assert as_(persona).get(response["Location"]).status_code == 200


def test_an_applicant_follows_their_registration_until_it_is_approved(client, db):
    registration = RegistrationFactory(status=RegistrationStatus.NEEDS_REVIEW)
    client.force_login(registration.user)
    assert client.get("/")["Location"] == reverse("accounts:register-status")
    registration.status = RegistrationStatus.APPROVED
    registration.save(update_fields=["status"])
    assert client.get("/")["Location"] == reverse("messages:list")


def test_a_staff_member_without_a_role_lands_on_the_dashboard(client, db):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/")["Location"] == reverse("dashboard:home")


def test_a_visitor_is_asked_to_sign_in_and_then_lands_on_their_page(client, db, password):
    response = client.get("/")
    assert response["Location"] == f"{reverse('login')}?next=/"
    reviewer = UserFactory(email="r@saypro.example", roles=[roles.REVIEWER])
    assert Group.objects.filter(name=roles.REVIEWER).exists()
    signed_in = client.post(f"{reverse('login')}?next=/", {"username": reviewer.email, "password": password})
    assert signed_in["Location"] == "/"
    assert client.get("/")["Location"] == reverse("accounts:queue")


def test_the_site_icon_is_served_and_linked_from_every_page(client, db):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 302
    assert icon["Location"].endswith("/favicon.svg")
    assert finders.find("favicon.svg")
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()
