"""Two-factor sign-in: TOTP with single-use recovery codes, optional for users, required for deciding staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import security
from accounts.events import Client
from accounts.models import AccountEvent
from saypro.errors import DomainError
from tests.accounts.helpers import submitted
from tests.accounts.security_helpers import enable_two_factor, totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
Kind = AccountEvent.Kind


def test_setting_up_needs_a_correct_first_code_and_gives_ten_recovery_codes(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="seller@example.com")
    client.force_login(user)
    page = client.post(reverse("two-factor"), {"action": "begin"})
    assert page.status_code == 200 and "<svg" in page.content.decode()
    secret = page.context["pending"].secret
    assert len(secret) == 32
    wrong = client.post(reverse("two-factor"), {"action": "confirm", "otp": "000000"})
    assert "not correct" in str(wrong.context["form"].errors) and not security.has_two_factor(user)
    device = page.context["pending"].device
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("two-factor"), {"action": "confirm", "otp": totp_code(device)})
    assert len(done.context["codes"]) == 10 and security.has_two_factor(user)
    assert AccountEvent.objects.filter(kind=Kind.TWO_FACTOR_ENABLED, user=user).count() == 1
    from django.core import mail

    assert "Two-factor sign-in is on" in mail.outbox[-1].subject


def test_sign_in_asks_for_the_code_after_the_password(client):
    user = UserFactory()
    device, _ = enable_two_factor(user)
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login-verify"))
    assert "_auth_user_id" not in client.session  # not signed in yet

    wrong = client.post(reverse("login-verify"), {"otp": "123456"})
    assert "not correct" in str(wrong.context["form"].errors)
    assert AccountEvent.objects.get(kind=Kind.SIGN_IN_FAILED).reason == "bad_second_factor"

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        signed_in = client.post(reverse("login-verify"), {"otp": totp_code(device)})
    assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert AccountEvent.objects.get(kind=Kind.SIGN_IN).reason == "totp"


def test_a_recovery_code_works_once(client):
    user = UserFactory()
    _, codes = enable_two_factor(user)
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert client.post(reverse("login-verify"), {"otp": codes[0]}).status_code == 302
    assert security.recovery_codes_left(user) == 9
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    again = client.post(reverse("login-verify"), {"otp": codes[0]})
    assert again.status_code == 200 and "_auth_user_id" not in client.session


def test_new_recovery_codes_are_recorded_and_the_old_ones_stop_working():
    user = UserFactory()
    _, old_codes = enable_two_factor(user)
    new_codes = security.recovery_codes_regenerate(user=user, client=Client(channel="web"))

    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    event = AccountEvent.objects.get(kind=Kind.RECOVERY_CODES_GENERATED, user=user)
    assert event.actor == user and event.channel == "web"
    with pytest.raises(security.WrongSecondFactor):
        security.second_factor_verify(user=user, code=old_codes[0], client=Client())
    # django-otp throttles a device for a moment after a wrong code.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        assert security.second_factor_verify(user=user, code=new_codes[0], client=Client())
    assert security.recovery_codes_left(user) == 9


def test_guessing_codes_locks_the_account_like_guessing_passwords(client, settings):
    user = UserFactory()
    enable_two_factor(user)
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES):
        client.post(reverse("login-verify"), {"otp": "999999"})
    response = client.post(reverse("login-verify"), {"otp": "999999"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert AccountEvent.objects.filter(kind=Kind.LOCKOUT, user=user).count() == 1


def test_the_code_entered_too_late_means_starting_again(client):
    user = UserFactory()
    device, _ = enable_two_factor(user)
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        response = client.post(reverse("login-verify"), {"otp": totp_code(device)})
    assert response["Location"] == reverse("login") and "_auth_user_id" not in client.session


def test_the_api_needs_the_code_when_the_account_has_two_factor():
    user = UserFactory()
    device, _ = enable_two_factor(user)
    api = APIClient()
    without = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert without.status_code == 401 and without.json()["error"]["code"] == "second_factor_required"
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        ok = api.post(
            "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD, "otp": totp_code(device)}, format="json"
        )
    assert ok.status_code == 200 and ok.json()["token"]


def test_two_factor_over_the_api(client):
    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)
    begun = api.post("/api/v1/account/two-factor/", {"action": "begin"}, format="json").json()
    assert begun["config_url"].startswith("otpauth://totp/SayPro")
    device = security.two_factor_pending(user=user).device
    confirmed = api.post("/api/v1/account/two-factor/", {"action": "confirm", "code": totp_code(device)}, format="json")
    assert len(confirmed.json()["recovery_codes"]) == 10
    assert api.get("/api/v1/account/two-factor/").json() == {"enabled": True, "recovery_codes_left": 10}
    refused = api.post("/api/v1/account/two-factor/", {"action": "disable", "code": "1"}, format="json")
    assert refused.status_code == 401 and security.has_two_factor(user)
    codes = confirmed.json()["recovery_codes"]
    # django-otp throttles a device for a moment after a wrong code.
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        off = api.post("/api/v1/account/two-factor/", {"action": "disable", "code": codes[1]}, format="json")
    assert off.json() == {"enabled": False} and not security.has_two_factor(user)
    assert AccountEvent.objects.filter(kind=Kind.TWO_FACTOR_DISABLED).count() == 1


@pytest.mark.parametrize(
    ("persona", "required"),
    [
        ("administrator", True),
        ("reviewer", True),
        ("moderator", True),
        ("agent", False),
        ("manager", False),
        ("user", False),
    ],
)
def test_deciding_staff_must_set_up_two_factor_when_the_setting_is_on(client, settings, request, persona, required):
    someone = request.getfixturevalue(persona)
    settings.STAFF_2FA_REQUIRED = True
    assert security.two_factor_required(someone) is required
    client.force_login(someone)
    response = client.get("/dashboard/")
    if required:
        assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
        # Signing in and setting up stay open.
        assert client.get(reverse("two-factor")).status_code == 200
    else:
        assert not response.get("Location", "").startswith(reverse("two-factor"))


def test_with_the_setting_off_no_role_is_forced(client, settings, administrator):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(administrator)
    assert client.get("/dashboard/").status_code == 200


def test_deciding_staff_with_a_device_verify_their_session_and_cannot_turn_it_off(client, settings, moderator):
    settings.STAFF_2FA_REQUIRED = True
    device, _ = enable_two_factor(moderator)
    client.force_login(moderator)
    response = client.get("/dashboard/")
    assert response["Location"].startswith(reverse("two-factor-verify"))
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        client.post(reverse("two-factor-verify"), {"otp": totp_code(device), "next": "/dashboard/"})
        assert client.get("/dashboard/").status_code == 200
    with pytest.raises(DomainError):
        security.two_factor_disable(user=moderator, by=moderator, client=Client(), code="x")


def test_an_administrator_can_turn_off_a_users_lost_two_factor(administrator):
    user = UserFactory()
    enable_two_factor(user)
    security.two_factor_disable(user=user, by=administrator, client=Client())
    assert not security.has_two_factor(user)
    assert AccountEvent.objects.get(kind=Kind.TWO_FACTOR_DISABLED).actor == administrator


def test_staff_owing_a_second_factor_get_no_api_through_their_session_nor_a_token(client, settings, administrator):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(administrator)
    response = client.get("/api/v1/staff/registrations/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "second_factor_required"
    token = APIClient().post("/api/v1/auth/token/", {"email": administrator.email, "password": PASSWORD}, format="json")
    assert token.status_code == 403 and token.json()["error"]["code"] == "second_factor_setup"


def test_a_signed_in_user_without_admin_access_is_refused_not_bounced(client, user):
    client.force_login(user)
    assert client.get("/admin/login/?next=/admin/").status_code == 403


# Whatever the session request also carries, the token class ignores it and the session authenticates it.
IGNORED_BY_THE_TOKEN_CLASS = {
    "none": None,
    "bearer": "Bearer x",
    "basic": "Basic cmV2aWV3ZXI6cGFzc3dvcmQ=",
    "garbage": "garbage",
    "empty": "",
    "digest": 'Digest username="reviewer"',
}


@pytest.mark.parametrize("header", IGNORED_BY_THE_TOKEN_CLASS.values(), ids=IGNORED_BY_THE_TOKEN_CLASS.keys())
def test_a_session_that_owes_its_second_factor_gets_no_staff_api_whatever_its_authorization_header(
    client, settings, reviewer, header
):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(reviewer)
    headers = {} if header is None else {"Authorization": header}
    listing = client.get("/api/v1/staff/registrations/", headers=headers)
    assert listing.status_code == 403 and listing.json()["error"]["code"] == "second_factor_required"
    registration = submitted()
    registration.refresh_from_db()
    before = registration.status
    rejected = client.post(
        f"/api/v1/staff/registrations/{registration.pk}/reject/",
        {"reason": "Fake documents"},
        content_type="application/json",
        headers=headers,
    )
    assert rejected.status_code == 403 and rejected.json()["error"]["code"] == "second_factor_required"
    registration.refresh_from_db()
    assert registration.status == before


@pytest.mark.parametrize("header", ["Token not-a-key", "token not-a-key", "Token", "Token two words"])
def test_a_session_with_a_bad_token_header_is_refused_as_unauthenticated(client, settings, reviewer, header):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(reviewer)
    response = client.get("/api/v1/staff/registrations/", headers={"Authorization": header})
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"


def test_a_verified_session_uses_the_staff_api_whatever_its_authorization_header(client, settings, reviewer):
    settings.STAFF_2FA_REQUIRED = True
    device, _ = enable_two_factor(reviewer)
    client.force_login(reviewer)
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        client.post(reverse("two-factor-verify"), {"otp": totp_code(device), "next": "/dashboard/"})
        for header in ("Bearer x", "garbage"):
            response = client.get("/api/v1/staff/registrations/", headers={"Authorization": header})
            assert response.status_code == 200, header


def test_a_valid_token_on_a_session_that_owes_its_second_factor_is_the_tokens_request(client, settings, reviewer):
    """The token was issued after both factors; it authenticates the request, not the half-signed-in session."""
    settings.STAFF_2FA_REQUIRED = True
    token = Token.objects.create(user=reviewer)
    client.force_login(reviewer)
    response = client.get("/api/v1/staff/registrations/", headers={"Authorization": f"Token {token.key}"})
    assert response.status_code == 200
