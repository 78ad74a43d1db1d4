"""A staff member with two-factor sign-in opens a user's timeline in the admin and unlocks a locked-out user."""

from __future__ import annotations

import re

import pytest
from django.test import Client as DjangoClient
from playwright.sync_api import expect

from accounts.models import AccountEvent, Lockout
from tests.accounts.security_helpers import enable_two_factor, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_administrator_signs_in_with_a_code_and_unlocks_a_locked_out_user(
    page, live_server, administrator, screenshot, settings
):
    device, _ = enable_two_factor(administrator)
    seller = UserFactory(email="thabo.seller@example.com", full_name="Thabo Seller")
    # The seller mistypes the password until sign-in is paused.
    attempts = DjangoClient()
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES):
        attempts.post("/accounts/login/", {"username": seller.email, "password": "wrong"}, REMOTE_ADDR="41.13.7.7")
    assert Lockout.objects.filter(user=seller, released_at=None).count() == 1
    base = live_server.url

    page.goto(f"{base}/admin/accounts/user/{seller.pk}/timeline/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("E-mail address").fill(administrator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    screenshot(page, "accounts-two-factor-code")
    page.get_by_label("Code").fill(totp_code(device, steps_ahead=1))
    page.get_by_role("button", name="Verify and sign in").click()

    expect(page).to_have_url(f"{base}/admin/accounts/user/{seller.pk}/timeline/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Locked out")
    expect(timeline).to_contain_text("Wrong password")
    expect(page.get_by_test_id("lockout")).to_contain_text("5 failed attempts")
    screenshot(page, "accounts-timeline-locked")

    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_text("can sign in again")).to_be_visible()
    expect(page.get_by_test_id("lockout")).to_have_count(0)
    expect(timeline.locator("tbody tr").first).to_contain_text("Lockout released")
    screenshot(page, "accounts-timeline-unlocked")

    lockout = Lockout.objects.get(user=seller)
    assert lockout.released_by == administrator
    sign_in = AccountEvent.objects.filter(user=administrator, kind=AccountEvent.Kind.SIGN_IN).get()
    assert (sign_in.reason, sign_in.channel) == ("totp", "admin")
    assert DjangoClient().post("/accounts/login/", {"username": seller.email, "password": PASSWORD}).status_code == 302


def test_a_reviewer_sets_up_two_factor_sign_in_when_the_role_requires_it(
    page, live_server, reviewer, screenshot, settings
):
    from accounts import security

    settings.STAFF_2FA_REQUIRED = True
    base = live_server.url
    page.goto(f"{base}/dashboard/")
    page.get_by_label("E-mail address").fill(reviewer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signed in, but the role decides on people: the set-up comes first.
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/\?next=%2Fdashboard%2F"))
    expect(page.get_by_text("set up two-factor sign-in to continue")).to_be_visible()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "accounts-two-factor-setup")
    device = security.two_factor_pending(user=reviewer).device
    page.get_by_label("Code shown by the app").fill(totp_code(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    screenshot(page, "accounts-two-factor-recovery-codes")
    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(f"{base}/dashboard/")
