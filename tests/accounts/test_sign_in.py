"""Signing in: every attempt recorded, lockout and unlock, credential stuffing, status, devices, API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import activity, security, services
from accounts.events import identifier_of
from accounts.models import AccountEvent, AccountSession, AccountStatus, ActivityDay, Lockout
from saypro.audit.models import AuditEntry
from tests.accounts.security_helpers import ANDROID, WINDOWS
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
Kind = AccountEvent.Kind


def sign_in(client, email, password=PASSWORD, *, ip="198.51.100.20", agent=WINDOWS, next_url=""):
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)


def test_a_successful_sign_in_is_recorded_with_its_session_device_and_activity(client, reviewer):
    response = sign_in(client, reviewer.email, agent=ANDROID, ip="198.51.100.20")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:queue")
    event = AccountEvent.objects.get(kind=Kind.SIGN_IN)
    assert (event.user, event.ip_address, event.device_type, event.channel) == (
        reviewer,
        "198.51.100.20",
        "mobile",
        "web",
    )
    assert event.user_agent == ANDROID
    session = AccountSession.objects.get(user=reviewer)
    assert (session.device_type, session.platform, session.browser) == ("mobile", "Android", "Chrome Mobile")
    assert session.key == client.session.session_key and session.ended_at is None
    activity.activity_flush(settle_seconds=0)
    assert ActivityDay.objects.get(user=reviewer).sign_ins == 1
    reviewer.refresh_from_db()
    assert reviewer.last_login is not None

    client.post(reverse("logout"))
    session.refresh_from_db()
    assert session.ended_at is not None
    assert AccountEvent.objects.filter(kind=Kind.SIGN_OUT, user=reviewer).count() == 1


def test_failures_are_recorded_with_their_reason_and_unknown_addresses_only_as_a_hash(client, reviewer):
    response = sign_in(client, reviewer.email, "wrong-password")
    assert response.status_code == 200
    assert "not correct" in str(response.context["form"].non_field_errors())
    sign_in(client, "nobody@example.com", "whatever")
    wrong, unknown = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED).order_by("pk")
    assert (wrong.user, wrong.reason) == (reviewer, "wrong_password")
    assert (unknown.user, unknown.reason) == (None, "unknown_account")
    assert unknown.identifier == identifier_of("nobody@example.com")
    assert "nobody" not in str(unknown.data) and "nobody" not in unknown.identifier


def test_repeated_failures_lock_the_account_with_a_clear_message_until_the_cool_off_ends(
    client, settings, django_capture_on_commit_callbacks
):
    user = UserFactory(email="seller@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES):
            sign_in(client, user.email, "wrong-password")
    lockout = Lockout.objects.get()
    assert lockout.user == user and lockout.failures == settings.ACCOUNT_LOCKOUT_FAILURES
    assert AccountEvent.objects.filter(kind=Kind.LOCKOUT, user=user).count() == 1
    assert AccountEvent.objects.filter(kind=Kind.SUSPICIOUS, reason="failure_burst", user=user).count() == 1

    # Even the right password is refused while locked.
    response = sign_in(client, user.email)
    assert response.status_code == 200
    message = str(response.context["form"].non_field_errors())
    assert "Too many failed sign-ins" in message and "30 more minutes" in message
    assert AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, reason="locked_out").count() == 1
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert sign_in(client, user.email).status_code == 302
    assert any("many failed sign-in attempts" in m.body for m in mail.outbox)


def test_an_administrator_unlocks_a_locked_out_user(client, administrator, settings):
    user = UserFactory(email="seller@example.com")
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES):
        sign_in(client, user.email, "wrong-password")
    assert security.lockouts_release_for(user=user, by=administrator) == 1
    lockout = Lockout.objects.get()
    assert lockout.released_by == administrator and not lockout.is_active()
    assert AuditEntry.objects.filter(action="account.unlock", actor=administrator).count() == 1
    assert AccountEvent.objects.get(kind=Kind.UNLOCK).actor == administrator
    # Failures before the release no longer count: one more mistake does not lock again.
    sign_in(client, user.email, "wrong-password")
    assert sign_in(client, user.email).status_code == 302
    assert security.lockouts_release_for(user=user, by=administrator) == 0


def test_a_success_resets_the_failure_count(client, settings):
    user = UserFactory()
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES - 1):
        sign_in(client, user.email, "wrong-password")
    assert sign_in(client, user.email).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES - 1):
        sign_in(client, user.email, "wrong-password")
    assert not Lockout.objects.exists()


def test_failures_across_many_accounts_from_one_ip_are_flagged_as_credential_stuffing(client, settings):
    for n in range(settings.ACCOUNT_STUFFING_ACCOUNTS + 3):
        sign_in(client, f"victim{n}@example.com", "password123", ip="203.0.113.66")
    flags = AccountEvent.objects.filter(kind=Kind.SUSPICIOUS, reason="credential_stuffing")
    assert flags.count() == 1
    assert (
        flags.get().ip_address == "203.0.113.66" and flags.get().data["accounts"] == settings.ACCOUNT_STUFFING_ACCOUNTS
    )


def test_a_suspended_user_is_told_why_and_until_when(client, moderator):
    user = UserFactory()
    services.user_suspend(user=user, by=moderator, reason="Fake listings.", until=timezone.now() + timedelta(days=2))
    response = sign_in(client, user.email)
    message = str(response.context["form"].non_field_errors())
    assert "suspended until" in message and "Fake listings." in message
    assert AccountEvent.objects.get(kind=Kind.SIGN_IN_FAILED).reason == "suspended"
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=1)):
        assert sign_in(client, user.email).status_code == 302
    user.refresh_from_db()
    assert user.status == AccountStatus.ACTIVE


def test_a_banned_user_cannot_sign_in(client, moderator):
    user = UserFactory()
    services.user_ban(user=user, by=moderator, reason="Fraud")
    response = sign_in(client, user.email)
    assert "closed" in str(response.context["form"].non_field_errors())


def test_signing_in_again_reactivates_a_deactivated_account(client):
    user = UserFactory()
    services.account_deactivate(user=user)
    assert sign_in(client, user.email).status_code == 302
    user.refresh_from_db()
    assert user.status == AccountStatus.ACTIVE and user.is_active
    assert AccountEvent.objects.filter(kind=Kind.REACTIVATED, user=user).exists()


def test_a_new_device_or_network_is_flagged_and_the_user_warned(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="seller@example.com")
    sign_in(client, user.email, agent=ANDROID, ip="41.13.1.1")
    assert not AccountEvent.objects.filter(kind=Kind.SUSPICIOUS).exists()  # nothing to compare the first with
    client.post(reverse("logout"))
    sign_in(client, user.email, agent=ANDROID, ip="41.13.1.99")  # same device, same /24
    assert not AccountEvent.objects.filter(kind=Kind.SUSPICIOUS).exists()
    client.post(reverse("logout"))
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, user.email, agent=WINDOWS, ip="41.13.1.1")
    new_device = AccountEvent.objects.get(kind=Kind.SUSPICIOUS)
    assert new_device.reason == "new_device" and new_device.user == user
    warning = mail.outbox[-1]
    assert warning.to == ["seller@example.com"] and "device you have not used before" in warning.body
    client.post(reverse("logout"))
    sign_in(client, user.email, agent=WINDOWS, ip="105.224.7.7")
    assert AccountEvent.objects.filter(kind=Kind.SUSPICIOUS, reason="new_network").count() == 1


def test_session_last_activity_is_cached_per_request_and_flushed_in_batches(client, django_assert_num_queries):
    user = UserFactory()
    sign_in(client, user.email)
    session = AccountSession.objects.get()
    later = timezone.now() + timedelta(minutes=20)
    with time_machine.travel(later, tick=False):
        client.get(reverse("accounts:register-status"))
    session.refresh_from_db()
    assert session.last_seen_at < later
    assert security.sessions_flush() == 1
    session.refresh_from_db()
    assert abs((session.last_seen_at - later).total_seconds()) < 1


def test_the_admin_signs_in_through_the_sign_in_page(client, administrator):
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = sign_in(client, administrator.email, next_url="/admin/accounts/user/")
    assert response["Location"] == "/admin/accounts/user/"
    assert AccountEvent.objects.get(kind=Kind.SIGN_IN).channel == "admin"


# --- API tokens ------------------------------------------------------------------------------------------------


def test_api_sign_in_returns_a_token_and_records_an_api_session():
    user = UserFactory(email="buyer@example.com")
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"email": "BUYER@example.com", "password": PASSWORD}, HTTP_USER_AGENT=ANDROID
    )
    assert response.status_code == 200
    token = response.json()["token"]
    session = AccountSession.objects.get(user=user)
    assert session.channel == "api" and session.key != token and session.device_type == "mobile"
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/account/").json()["email"] == "buyer@example.com"
    assert api.post("/api/v1/auth/sign-out/").status_code == 204
    assert api.get("/api/v1/account/").status_code == 401
    session.refresh_from_db()
    assert session.ended_at is not None


def test_api_sign_in_errors_use_the_one_error_shape():
    user = UserFactory()
    api = APIClient()
    wrong = api.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    missing = api.post("/api/v1/auth/token/", {"email": user.email}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["error"]["fields"]
    for _ in range(5):
        api.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    locked = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked_out"


# --- Failures per address and per network -----------------------------------------------------------------------


def test_password_spraying_from_one_address_is_paused_with_a_clear_message_and_recorded(client, settings):
    owner = UserFactory(email="owner@example.com")
    accounts = [UserFactory(email=f"victim{n}@example.com") for n in range(40)]
    passwords = ["Summer2026!", "Password1", "Welcome123", "Qwerty!23"]
    responses = [
        sign_in(client, account.email, password, ip="203.0.113.66") for password in passwords for account in accounts
    ]
    # Only the first ACCOUNT_IP_FAILURES attempts had a password checked; the other 140 were refused unchecked.
    checked = AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, reason__in=security.COUNTED_FAILURES)
    assert checked.count() == settings.ACCOUNT_IP_FAILURES
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == 160 - settings.ACCOUNT_IP_FAILURES
    message = str(refused[-1].context["form"].non_field_errors())
    assert "Too many failed sign-ins from your network" in message and "paused" in message
    assert AccountEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, reason="throttled").count() == len(refused)
    throttled = AccountEvent.objects.get(kind=Kind.SUSPICIOUS, reason="address_throttled")
    assert throttled.ip_address == "203.0.113.66" and throttled.data["failures"] == settings.ACCOUNT_IP_FAILURES
    assert not Lockout.objects.exists()  # no account reached its own limit

    # The right password is refused too from the paused address; other addresses are not affected.
    assert sign_in(client, owner.email, ip="203.0.113.66").status_code == 429
    assert sign_in(client, owner.email, ip="198.51.100.20").status_code == 302
    client.post(reverse("logout"))
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES + 1)):
        assert sign_in(client, owner.email, ip="203.0.113.66").status_code == 302


def test_once_stuffing_is_detected_the_whole_network_shares_one_budget(client, settings):
    settings.ACCOUNT_NETWORK_FAILURES = 12
    # Neighbours failing one account each are not stuffing: their network is not limited.
    for n in range(15):
        sign_in(client, f"nobody{n}@example.com", "guess", ip=f"198.51.100.{n + 1}")
    assert sign_in(client, "nobody99@example.com", "guess", ip="198.51.100.99").status_code == 200

    for n in range(settings.ACCOUNT_STUFFING_ACCOUNTS):
        sign_in(client, f"victim{n}@example.com", "password123", ip="203.0.113.66")
    assert AccountEvent.objects.filter(kind=Kind.SUSPICIOUS, reason="credential_stuffing").exists()
    statuses = [
        sign_in(client, f"other{n}@example.com", "password123", ip=f"203.0.113.{100 + n}").status_code
        for n in range(10)
    ]
    allowed = settings.ACCOUNT_NETWORK_FAILURES - settings.ACCOUNT_STUFFING_ACCOUNTS
    assert statuses == [200] * allowed + [429] * (10 - allowed)
    event = AccountEvent.objects.get(kind=Kind.SUSPICIOUS, reason="network_throttled")
    assert event.data["network"] == "203.0.113.0/24"
    assert sign_in(client, "other@example.com", "password123", ip="203.0.114.1").status_code == 200


def test_a_paused_address_gets_429_in_the_api_error_shape_too(settings):
    settings.ACCOUNT_IP_FAILURES = 3
    api = APIClient()
    for n in range(3):
        api.post("/api/v1/auth/token/", {"email": f"x{n}@example.com", "password": "nope"}, format="json")
    paused = api.post("/api/v1/auth/token/", {"email": "x9@example.com", "password": "nope"}, format="json")
    assert paused.status_code == 429 and paused.json()["error"]["code"] == "sign_in_throttled"
