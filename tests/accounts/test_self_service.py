"""What users do with their own account: recovery, changes, privacy, export, deletion, feedback."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import activity, self_service, services
from accounts.events import Client
from accounts.models import (
    AccountEvent,
    AccountPreferences,
    AccountSession,
    AccountStatus,
    ActivityDay,
    DeletionRequest,
    Feedback,
    PasswordReset,
    Registration,
)
from saypro.audit.models import AuditEntry
from saypro.errors import InvalidInput
from tests.accounts.helpers import submitted
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
Kind = AccountEvent.Kind
NEW_PASSWORD = "a-brand-new-long-passphrase"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def reset_link(django_capture_on_commit_callbacks, email: str, client) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password-reset"), {"email": email})
    return re.search(r"https?://\S+(/accounts/password-reset/\S+/\S+/)", mail.outbox[-1].body).group(1)


def test_password_reset_is_recorded_from_request_to_completion(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="seller@example.com")
    path = reset_link(django_capture_on_commit_callbacks, "Seller@Example.com", client)
    reset = PasswordReset.objects.get(user=user)
    assert reset.completed_at is None
    assert AccountEvent.objects.filter(kind=Kind.PASSWORD_RESET_REQUESTED, user=user).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    reset.refresh_from_db()
    assert reset.completed_at is not None
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AccountEvent.objects.filter(kind=Kind.PASSWORD_RESET_COMPLETED, user=user).count() == 1
    assert "account was reset on" in mail.outbox[-1].body


def test_a_reset_releases_a_lockout_and_restarts_the_failure_count(
    client, settings, django_capture_on_commit_callbacks
):
    user = UserFactory(email="seller@example.com")
    for _ in range(settings.ACCOUNT_LOCKOUT_FAILURES):
        client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    path = reset_link(django_capture_on_commit_callbacks, "seller@example.com", client)
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert AccountEvent.objects.get(kind=Kind.UNLOCK).reason == "password_reset"
    client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_a_used_reset_link_does_not_work_again(client, django_capture_on_commit_callbacks):
    UserFactory(email="seller@example.com")
    path = reset_link(django_capture_on_commit_callbacks, "seller@example.com", client)
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(path)
    assert again.status_code == 400 and again.context["invalid"]
    posted = client.post(path, {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"})
    assert posted.status_code == 400


def test_an_expired_reset_link_does_not_work(client, settings, django_capture_on_commit_callbacks):
    UserFactory(email="seller@example.com")
    path = reset_link(django_capture_on_commit_callbacks, "seller@example.com", client)
    # A relative jump: Django's reset tokens use naive local time, which an absolute UTC destination would skew.
    with time_machine.travel(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        assert client.get(path).status_code == 400


def test_a_forged_reset_link_does_not_work(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="seller@example.com")
    path = reset_link(django_capture_on_commit_callbacks, "seller@example.com", client)
    forged = path.rstrip("/")[:-3] + "abc/"
    assert client.get(forged).status_code == 400
    other = UserFactory()
    # Another user's id with this user's token.
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    token = path.rstrip("/").rsplit("/", 1)[1]
    assert (
        client.get(f"/accounts/password-reset/{urlsafe_base64_encode(force_bytes(other.pk))}/{token}/").status_code
        == 400
    )
    api = APIClient().post(
        "/api/v1/auth/password-reset/confirm/",
        {"uid": "bad", "token": "bad", "new_password": NEW_PASSWORD},
        format="json",
    )
    assert api.status_code == 400 and api.json()["error"]["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post(reverse("password-reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and mail.outbox == []
    assert not PasswordReset.objects.exists()


def test_a_reset_soon_after_a_new_device_sign_in_is_suspicious(client):
    user = UserFactory()
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, HTTP_USER_AGENT="curl/8")
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, HTTP_USER_AGENT="Mozilla/5.0 (iPad)")
    client.post(reverse("logout"))
    client.post(reverse("password-reset"), {"email": user.email})
    reasons = set(AccountEvent.objects.filter(kind=Kind.SUSPICIOUS).values_list("reason", flat=True))
    assert reasons == {"new_device", "reset_after_new_device"}


def test_password_change_needs_the_current_password_signs_out_elsewhere_and_tells_the_user(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="seller@example.com")
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    wrong = api.post("/api/v1/account/password/", {"current_password": "x", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "current_password" in wrong.json()["error"]["fields"]
    weak = api.post("/api/v1/account/password/", {"current_password": PASSWORD, "new_password": "123"})
    assert "new_password" in weak.json()["error"]["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        done = api.post("/api/v1/account/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert done.status_code == 200 and done.json()["token"] not in ("", None, token)
    assert AccountEvent.objects.filter(kind=Kind.PASSWORD_CHANGED, user=user).count() == 1
    assert mail.outbox[-1].to == ["seller@example.com"] and "account was changed on" in mail.outbox[-1].body
    assert "a-brand-new" not in str(list(AccountEvent.objects.values_list("data", flat=True)))
    activity.activity_flush(settle_seconds=0)
    assert ActivityDay.objects.get(user=user).password_changes == 1


def test_email_change_waits_for_the_new_address_and_tells_the_old_one(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="old@example.com")
    api = api_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/account/email/", {"new_email": "new@example.com", "password": PASSWORD})
    assert response.status_code == 202
    user.refresh_from_db()
    assert user.email == "old@example.com"
    requested = AccountEvent.objects.get(kind=Kind.EMAIL_CHANGE_REQUESTED, user=user)
    # Who asked and a masked address, never the new address itself.
    assert requested.actor == user and requested.channel == "api"
    assert requested.data == {"new_email": "n***@example.com"}
    confirm = mail.outbox[-1]
    assert confirm.to == ["new@example.com"]
    path = re.search(r"(/accounts/email-change/\S+/)", confirm.body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(path).status_code == 200
    user.refresh_from_db()
    assert user.email == "new@example.com" and user.email_verified_at is not None
    assert mail.outbox[-1].to == ["old@example.com"] and "n***@example.com" in mail.outbox[-1].body
    event = AccountEvent.objects.get(kind=Kind.EMAIL_CHANGED)
    assert event.data == {"from": "o***@example.com", "to": "n***@example.com"}
    assert client.get(path).status_code == 400  # used once
    taken = api.post("/api/v1/account/email/", {"new_email": UserFactory().email, "password": PASSWORD})
    assert taken.status_code == 400 and "new_email" in taken.json()["error"]["fields"]


def test_profile_updates_record_field_names_not_sensitive_values():
    user = UserFactory(full_name="Thandi Nkosi", country="ZA", language="en")
    response = api_for(user).patch(
        "/api/v1/account/", {"full_name": "Thandi M. Nkosi", "language": "zu", "phone": "+27 82 555 0123"}
    )
    assert response.status_code == 200 and response.json()["language"] == "zu"
    event = AccountEvent.objects.get(kind=Kind.PROFILE_UPDATED)
    assert event.data["fields"] == {
        "full_name": "changed",
        "phone": "changed",
        "language": {"from": "en", "to": "zu"},
    }
    bad = api_for(user).patch("/api/v1/account/", {"phone": "12", "country": "Z1"})
    assert bad.status_code == 400 and {"phone", "country"} <= set(bad.json()["error"]["fields"])


def test_preferences_and_privacy_choices_are_events_with_the_policy_version(settings):
    settings.PRIVACY_POLICY_VERSION = "2026-02"
    user = UserFactory()
    api = api_for(user)
    response = api.patch(
        "/api/v1/account/preferences/",
        {"email_notifications": False, "marketing_opt_in": True, "data_processing_consent": True},
        format="json",
    )
    body = response.json()
    assert body["consent_policy_version"] == "2026-02" and body["consent_at"] and body["marketing_opt_in"]
    api.patch("/api/v1/account/preferences/", {"marketing_opt_in": False}, format="json")
    privacy = list(
        AccountEvent.objects.filter(kind=Kind.PRIVACY_CHANGED).order_by("pk").values_list("reason", flat=True)
    )
    assert privacy == ["marketing_opt_in", "consent_given", "marketing_opt_out"]
    preferences = AccountEvent.objects.get(kind=Kind.PREFERENCES_CHANGED)
    assert preferences.data == {"email_notifications": {"from": True, "to": False}}
    # A new policy version asks for consent again.
    settings.PRIVACY_POLICY_VERSION = "2026-03"
    api.patch("/api/v1/account/preferences/", {"data_processing_consent": True}, format="json")
    assert AccountPreferences.objects.get(user=user).consent_policy_version == "2026-03"


def test_the_data_export_holds_the_users_data_and_nobody_elses():
    registration = submitted(email="seller@example.com")
    user = registration.user
    other = UserFactory(email="other@example.com")
    self_service.feedback_submit(user=user, topic="nps", score=9, comment="Good")
    self_service.feedback_submit(user=other, topic="nps", score=1, comment="Bad")
    AccountSession.objects.create(user=user, channel="api", key="k", device_type="mobile")
    ActivityDay.objects.create(user=user, day=timezone.localdate(), messages_sent=3)
    response = api_for(user).get("/api/v1/account/export/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["profile"]["email"] == "seller@example.com" and data["profile"]["phone"] == user.phone
    registration.refresh_from_db()
    assert data["registration"]["status"] == registration.status
    assert data["feedback"] == [{"topic": "nps", "score": 9, "comment": "Good", "at": data["feedback"][0]["at"]}]
    assert data["sessions"][0]["device_type"] == "mobile" and data["activity"][0]["messages_sent"] == 3
    assert "other@example.com" not in response.content.decode()
    assert AccountEvent.objects.filter(kind=Kind.DATA_EXPORTED, user=user).count() == 1


def test_deletion_anonymises_personal_data_and_keeps_the_aggregates(administrator, django_capture_on_commit_callbacks):
    registration = submitted(email="seller@example.com", phone="+27 82 555 0111")
    user = registration.user
    services.registration_approve(registration=registration, by=administrator)
    ActivityDay.objects.create(user=user, day=timezone.localdate(), messages_sent=4)
    AccountSession.objects.create(user=user, channel="web", key="abc", ip_address="198.51.100.1", device_type="mobile")
    self_service.feedback_submit(user=user, topic="registration", score=4, comment="My name is Thandi")
    api_for(user).post("/api/v1/account/deletion/", {"reason": "Moving away"}, format="json")
    request = DeletionRequest.objects.get(user=user)
    assert AccountEvent.objects.filter(kind=Kind.DELETION_REQUESTED, user=user).exists()

    with django_capture_on_commit_callbacks(execute=True):
        self_service.account_delete(request=request, by=administrator)
    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@deleted.invalid" and not user.full_name and not user.phone
    assert user.status == AccountStatus.DELETED and not user.is_active and not user.has_usable_password()
    registration.refresh_from_db()
    assert registration.phone_e164 == "" and registration.ip_address is None
    assert "seller" not in registration.canonical_email
    assert AccountSession.objects.get(user=user).ip_address is None
    assert Feedback.objects.get(user=user).comment == ""
    assert not AccountEvent.objects.filter(user=user).exclude(ip_address=None).exists()
    # What reports count stays.
    assert ActivityDay.objects.get(user=user).messages_sent == 4
    assert registration.status == "approved" and registration.submitted_at is not None
    assert Feedback.objects.get(user=user).score == 4
    assert AuditEntry.objects.filter(action="account.delete", actor=administrator).count() == 1
    deleted = AccountEvent.objects.get(kind=Kind.DELETED, user=user)
    assert deleted.actor == administrator and deleted.data == {"request": request.pk}
    assert mail.outbox[-1].to == ["seller@example.com"] and "deleted" in mail.outbox[-1].subject
    request.refresh_from_db()
    assert request.status == DeletionRequest.Status.COMPLETED and request.decided_by == administrator


def test_deactivation_through_the_api_signs_the_user_out():
    user = UserFactory()
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post("/api/v1/account/deactivate/", {"reason": "Break"}, format="json").status_code == 204
    assert api.get("/api/v1/account/").status_code == 401
    user.refresh_from_db()
    assert user.status == AccountStatus.DEACTIVATED


@pytest.mark.parametrize(
    ("topic", "score", "ok"),
    [
        ("registration", 5, True),
        ("registration", 0, False),
        ("account", 6, False),
        ("nps", 0, True),
        ("nps", 11, False),
    ],
)
def test_feedback_scores_are_checked_per_topic(topic, score, ok):
    response = api_for(UserFactory()).post("/api/v1/account/feedback/", {"topic": topic, "score": score}, format="json")
    assert (response.status_code == 201) is ok
    if not ok:
        assert "score" in response.json()["error"]["fields"]


def test_feedback_service_refuses_an_unknown_topic():
    with pytest.raises(InvalidInput):
        self_service.feedback_submit(user=None, topic="listing", score=3)


# --- Who may see what ----------------------------------------------------------------------------------------


def test_account_endpoints_need_a_signed_in_user():
    api = APIClient()
    for path in ("/api/v1/account/", "/api/v1/account/export/", "/api/v1/account/preferences/"):
        assert api.get(path).status_code == 401


@pytest.mark.parametrize(
    ("persona", "timeline", "suspend", "unlock"),
    [
        ("administrator", 200, 200, 200),
        ("moderator", 200, 200, 403),
        ("reviewer", 403, 403, 403),
        ("agent", 403, 403, 403),
        ("manager", 403, 403, 403),
        ("user", 403, 403, 403),
    ],
)
def test_staff_account_endpoints_follow_the_roles(request, persona, timeline, suspend, unlock):
    subject = UserFactory()
    api = api_for(request.getfixturevalue(persona))
    assert api.get(f"/api/v1/staff/users/{subject.pk}/timeline/").status_code == timeline
    assert api.post(f"/api/v1/staff/users/{subject.pk}/unlock/").status_code == unlock
    response = api.post(f"/api/v1/staff/users/{subject.pk}/suspend/", {"reason": "Spam"}, format="json")
    assert response.status_code == suspend


def test_the_timeline_endpoint_is_newest_first_with_constant_queries(administrator, django_assert_max_num_queries):
    subject = UserFactory()
    for kind in (Kind.SIGN_IN, Kind.PROFILE_UPDATED, Kind.SIGN_OUT):
        AccountEvent.objects.create(user=subject, kind=kind, actor=administrator)
    api = api_for(administrator)
    with django_assert_max_num_queries(6):
        body = api.get(f"/api/v1/staff/users/{subject.pk}/timeline/").json()
    assert [row["kind"] for row in body["results"]] == ["sign_out", "profile_updated", "sign_in"]
    for _ in range(30):
        AccountEvent.objects.create(user=subject, kind=Kind.SIGN_IN, actor=administrator)
    with django_assert_max_num_queries(6):
        api.get(f"/api/v1/staff/users/{subject.pk}/timeline/")


@pytest.mark.parametrize(
    ("persona", "status"), [("administrator", 200), ("moderator", 200), ("agent", 403), ("user", 302)]
)
def test_the_admin_timeline_page_is_for_staff_with_the_permission(client, request, persona, status):
    subject = UserFactory()
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("admin:accounts_user_timeline", args=[subject.pk]))
    # The admin sends people without admin access to its sign-in page; administrators see the timeline.
    assert response.status_code == status


def test_the_admin_timeline_lists_events_and_applies_status_actions(
    client, administrator, django_assert_max_num_queries
):
    subject = UserFactory(email="seller@example.com")
    for _ in range(20):
        AccountEvent.objects.create(
            user=subject, kind=Kind.SIGN_IN_FAILED, reason="wrong_password", ip_address="198.51.100.9"
        )
    client.force_login(administrator)
    url = reverse("admin:accounts_user_timeline", args=[subject.pk])
    client.get(url)
    with django_assert_max_num_queries(20):
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("Wrong password") == 20
    response = client.post(
        reverse("admin:accounts_user_status", args=[subject.pk]), {"action": "suspend", "reason": "Spam"}
    )
    assert response.status_code == 302
    subject.refresh_from_db()
    assert subject.status == AccountStatus.SUSPENDED
    assert AccountEvent.objects.get(kind=Kind.SUSPENDED).actor == administrator
    missing = client.post(reverse("admin:accounts_user_status", args=[subject.pk]), {"action": "ban"})
    assert missing.status_code == 200 and "reason" in missing.context["status_form"].errors
    assert Registration.objects.count() == 0
    assert Client().channel == "system"


def test_administrators_complete_deletion_requests_and_release_lockouts_from_the_admin(client, administrator):
    doomed = UserFactory(email="leaving@example.com")
    self_service.deletion_request(user=doomed, reason="Leaving")
    locked = UserFactory()
    from accounts.models import Lockout

    lockout = Lockout.objects.create(
        user=locked, identifier="x", failures=5, until=timezone.now() + timedelta(minutes=30)
    )
    client.force_login(administrator)
    response = client.post(
        reverse("admin:accounts_deletionrequest_changelist"),
        {"action": "complete_selected", "_selected_action": [DeletionRequest.objects.get().pk]},
    )
    assert response.status_code == 302
    doomed.refresh_from_db()
    assert doomed.status == AccountStatus.DELETED and doomed.email.endswith("@deleted.invalid")
    client.post(
        reverse("admin:accounts_lockout_changelist"), {"action": "release_selected", "_selected_action": [lockout.pk]}
    )
    lockout.refresh_from_db()
    assert lockout.released_by == administrator
    AccountEvent.objects.create(kind=Kind.SUSPICIOUS, reason="credential_stuffing", ip_address="203.0.113.5")
    AccountEvent.objects.create(kind=Kind.SIGN_IN, user=locked)
    listing = client.get(reverse("admin:accounts_suspiciousevent_changelist"))
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    nav = [entry["label"] for entry in client.get("/dashboard/").context["nav_entries"]]
    assert "Account security" in nav


def test_deletion_requests_and_lockouts_are_closed_to_other_roles(client, moderator, reviewer):
    for persona in (moderator, reviewer):
        client.force_login(persona)
        assert client.get(reverse("admin:accounts_deletionrequest_changelist")).status_code == 403
        assert client.get(reverse("admin:accounts_lockout_changelist")).status_code == 403


def _signed_in_on_the_web(user) -> Any:
    from django.test import Client as WebClient

    browser = WebClient()
    assert browser.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/api/v1/account/").status_code == 200
    return browser


def test_a_password_change_through_the_api_ends_the_old_token_and_every_other_session():
    user = UserFactory(email="seller@example.com")
    phone = APIClient()
    old = phone.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()["token"]
    phone.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    browser = _signed_in_on_the_web(user)

    done = phone.post("/api/v1/account/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    new = done.json()["token"]
    assert done.status_code == 200 and new != old
    stolen = APIClient()
    stolen.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert stolen.get("/api/v1/account/").status_code == 401
    assert browser.get("/api/v1/account/").status_code == 401  # the session is gone: not signed in
    phone.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert phone.get("/api/v1/account/").status_code == 200
    open_sessions = AccountSession.objects.filter(user=user, ended_at__isnull=True)
    assert list(open_sessions.values_list("channel", flat=True)) == ["api"]  # the phone, under its new token


def test_a_password_change_in_a_web_session_keeps_that_session_and_revokes_every_token():
    user = UserFactory(email="seller@example.com")
    phone = APIClient()
    token = phone.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()[
        "token"
    ]
    other_browser = _signed_in_on_the_web(user)
    browser = _signed_in_on_the_web(user)

    done = browser.post(
        "/api/v1/account/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )

    assert done.status_code == 200 and done.json() == {"token": None}
    assert browser.get("/api/v1/account/").status_code == 200
    assert other_browser.get("/api/v1/account/").status_code == 401
    phone.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert phone.get("/api/v1/account/").status_code == 401


def test_a_password_reset_ends_every_session_and_revokes_the_token(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="seller@example.com")
    phone = APIClient()
    token = phone.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json").json()[
        "token"
    ]
    browser = _signed_in_on_the_web(user)
    path = reset_link(django_capture_on_commit_callbacks, user.email, client)
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    phone.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert phone.get("/api/v1/account/").status_code == 401
    assert browser.get("/api/v1/account/").status_code == 401
    assert not AccountSession.objects.filter(user=user, ended_at__isnull=True).exists()


def test_an_administrator_setting_a_users_password_revokes_their_token(client):
    user = UserFactory(email="seller@example.com")
    token = services_token(user)
    admin = UserFactory(email="root@saypro.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/account/").status_code == 401


def services_token(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def test_a_staff_member_changing_their_password_in_the_admin_revokes_their_token_and_other_sessions(manager):
    token = services_token(manager)
    other_browser = _signed_in_on_the_web(manager)
    browser = _signed_in_on_the_web(manager)
    response = browser.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:password_change_done")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/account/").status_code == 401
    assert other_browser.get("/api/v1/account/").status_code == 401
    assert browser.get("/api/v1/account/").status_code == 200
