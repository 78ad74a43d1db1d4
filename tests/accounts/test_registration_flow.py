"""Sign-up, verification, screening and automatic approval, through the services."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import PhoneCode, RegistrationSignal, RegistrationStatus, User
from saypro.audit.models import AuditEntry
from saypro.errors import InvalidInput, RateLimited
from saypro.sla.models import Clock
from tests.accounts.helpers import SIGNUP, signup, submitted

pytestmark = pytest.mark.django_db

Code = RegistrationSignal.Code


@pytest.fixture(autouse=True)
def sms_to_files(settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def last_sms_code(folder) -> str:
    lines = [json.loads(line) for path in sorted(folder.glob("*.log")) for line in path.read_text().splitlines()]
    return re.search(r"\b(\d{6})\b", lines[-1]["body"]).group(1)


def verification_token(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email] and "/register/verify-email/" in m.body)
    return re.search(r"/register/verify-email/([^/\s]+)/", message.body).group(1)


def verify_everything(registration, sms_folder, capture):
    with capture(execute=True):
        services.email_verify(token=verification_token(registration.user.email))
        services.phone_code_send(registration=registration)
    with capture(execute=True):
        return services.phone_code_confirm(registration=registration, code=last_sms_code(sms_folder))


def test_signup_records_the_first_funnel_steps_and_normalises_identity(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = signup(email="Thandi.Nkosi+ads@GoogleMail.com")
    assert registration.status == RegistrationStatus.STARTED
    assert registration.user.email == "thandi.nkosi+ads@googlemail.com"
    assert registration.canonical_email == "thandinkosi@gmail.com"
    assert registration.phone_e164 == "+27825550101"
    assert registration.subnet == "203.0.113.0/24"
    assert registration.started_at and registration.profile_completed_at
    assert registration.submitted_at is None
    assert registration.user.check_password(SIGNUP["password"])
    assert any("/register/verify-email/" in m.body for m in mail.outbox)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-address"),
        ("email", "a" * 250 + "@example.com"),
        ("phone", "12345"),
        ("phone", "call me maybe"),
        ("full_name", "x" * 151),
        ("region", "r" * 101),
        ("country", "ZAF"),
        ("age_band", "teen"),
        ("password", "123"),
    ],
)
def test_signup_refuses_bad_input_with_a_message_on_the_field(field, value):
    with pytest.raises(InvalidInput) as caught:
        signup(**{field: value})
    assert field in caught.value.fields
    assert User.objects.count() == 0


def test_signup_refuses_an_address_already_registered():
    signup()
    with pytest.raises(InvalidInput) as caught:
        signup(email=SIGNUP["email"].upper(), phone="+27825550199")
    assert "email" in caught.value.fields


def test_submission_starts_a_48_hour_clock_and_acknowledges_with_the_deadline(django_capture_on_commit_callbacks):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
    clock = Clock.objects.get(metric="registration.approval", target_id=registration.pk)
    assert clock.due_at == clock.started_at + timedelta(hours=48)
    ack = next(m for m in mail.outbox if "under review" in m.body)
    # 2026-03-04 08:00 UTC is 10:00 in Johannesburg, the configured time zone.
    assert "Wednesday 4 March 2026, 10:00" in ack.body
    registration.refresh_from_db()
    assert registration.submitted_at == clock.started_at


def test_low_risk_applicant_waits_for_verification_then_is_approved_automatically(
    django_capture_on_commit_callbacks, sms_to_files
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.VERIFYING
    assert registration.risk_score == 0
    registration = verify_everything(registration, sms_to_files, django_capture_on_commit_callbacks)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert registration.auto_approved and registration.decided_by is None
    entry = AuditEntry.objects.get(action="registration.auto_approve")
    assert entry.actor is None and entry.actor_label == "system"
    clock = Clock.objects.get(target_id=registration.pk, metric="registration.approval")
    assert clock.state == "stopped" and clock.met is True
    assert any("approved" in m.subject for m in mail.outbox)
    assert registration.user.email_verified_at and registration.user.phone_verified_at


def test_email_link_works_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
    token = verification_token(registration.user.email)
    services.email_verify(token=token)
    with pytest.raises(InvalidInput):
        services.email_verify(token=token)


def test_email_link_expires(django_capture_on_commit_callbacks, settings):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            registration = submitted()
        token = verification_token(registration.user.email)
    with time_machine.travel("2026-03-05 08:00:01Z", tick=False), pytest.raises(InvalidInput):
        services.email_verify(token=token)


@pytest.mark.parametrize("token", ["", "garbage", "MQ.forged-token", "!!!.x", "MTIzNDU2Nzg5.abc-def"])
def test_forged_email_tokens_are_refused(token):
    with pytest.raises(InvalidInput):
        services.email_verify(token=token)


def test_verification_email_resend_is_rate_limited(django_capture_on_commit_callbacks):
    registration = submitted()
    for _ in range(3):
        services.email_verification_send(registration=registration)
    with pytest.raises(RateLimited):
        services.email_verification_send(registration=registration)


def test_phone_code_guessing_is_locked_out_after_five_attempts(django_capture_on_commit_callbacks, sms_to_files):
    with django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
        services.phone_code_send(registration=registration)
    code = last_sms_code(sms_to_files)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(InvalidInput) as caught:
            services.phone_code_confirm(registration=registration, code=wrong)
        assert str(left) in caught.value.message or left == 0
    with pytest.raises(InvalidInput) as caught:
        services.phone_code_confirm(registration=registration, code=code)
    assert caught.value.code == "code_locked"
    assert PhoneCode.objects.get().attempts == 5
    registration.refresh_from_db()
    assert registration.phone_verified_at is None


def test_phone_code_expires_after_ten_minutes(django_capture_on_commit_callbacks, sms_to_files):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
        services.phone_code_send(registration=registration)
    with time_machine.travel("2026-03-02 08:10:01Z", tick=False), pytest.raises(InvalidInput) as caught:
        services.phone_code_confirm(registration=registration, code=last_sms_code(sms_to_files))
    assert caught.value.code == "code_expired"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_phone_codes_are_refused_without_spending_an_attempt(code):
    registration = submitted()
    with pytest.raises(InvalidInput):
        services.phone_code_confirm(registration=registration, code=code)


def test_phone_code_resend_is_rate_limited(django_capture_on_commit_callbacks):
    registration = submitted()
    services.phone_code_send(registration=registration)
    with pytest.raises(RateLimited):
        services.phone_code_send(registration=registration)


def test_sms_gateway_down_sends_the_registration_to_manual_review(django_capture_on_commit_callbacks, settings):
    settings.SMS_BACKEND = "accounts.sms.HttpGatewaySmsBackend"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/send"  # the discard port: nothing listens there
    settings.SMS_GATEWAY_TIMEOUT = 1
    with django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(registration=registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.signals.filter(code=Code.VERIFICATION_UNAVAILABLE).exists()


def test_applicant_who_never_verifies_is_handed_to_reviewers_after_the_grace_period(
    django_capture_on_commit_callbacks, settings
):
    from accounts.tasks import registrations_escalate_unverified

    settings.REGISTRATION_VERIFICATION_GRACE_HOURS = 12
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        registration = submitted()
    with time_machine.travel("2026-03-02 19:59:00Z", tick=False):
        assert registrations_escalate_unverified() == 0
    with time_machine.travel("2026-03-02 20:00:00Z", tick=False):
        assert registrations_escalate_unverified() == 1
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.signals.get(code=Code.UNVERIFIED).detail == "e-mail and phone not verified in time"


def test_profile_completion_is_a_funnel_step(django_capture_on_commit_callbacks):
    registration = signup(region="", age_band="")
    assert registration.profile_completed_at is None
    with pytest.raises(InvalidInput):
        services.registration_update_profile(registration=registration, age_band="old")
    registration = services.registration_update_profile(registration=registration, region="Limpopo", age_band="35-44")
    assert registration.profile_completed_at is not None
    assert registration.user.region == "Limpopo"


def test_submitting_twice_keeps_one_clock(django_capture_on_commit_callbacks):
    registration = submitted()
    services.registration_submit(registration=registration)
    assert Clock.objects.filter(target_id=registration.pk).count() == 1


def test_approval_deadline_is_timezone_aware():
    registration = submitted()
    clock = Clock.objects.get(target_id=registration.pk)
    assert timezone.is_aware(clock.due_at)
