"""`/` sends each person to where their day starts, and the site has an icon."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts import roles
from accounts.models import RegistrationStatus
from tests.factories import RegistrationFactory, UserFactory


@pytest.mark.parametrize(
    ("permission", "landing"),
    [
        ("sla.view_compliance", "dashboard:home"),  # managers and administrators
        ("accounts.review_registration", "accounts:queue"),  # reviewers
        ("moderation.view_case", "moderation:home"),  # moderators
        ("messaging.view_conversation", "messaging:home"),  # support agents
        ("support.view_ticket", "support:home"),
    ],
)
def test_the_root_sends_staff_to_the_page_their_role_works_on(client, db, permission, landing):
    app_label, codename = permission.split(".")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client.force_login(staff)
    assert client.get("/")["Location"] == reverse(landing)


def test_each_role_lands_on_a_page_it_may_open(as_, settings):
    settings.STAFF_2FA_REQUIRED = False  # the landing page itself, not the two-factor set-up before it
    for persona in ("manager", "administrator", "reviewer", "moderator", "agent", "user"):
        client = as_(persona)
        response = client.get("/")
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200, persona


def test_a_member_lands_on_their_conversations(as_):
    assert as_("user").get("/")["Location"] == reverse("messages:list")


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
