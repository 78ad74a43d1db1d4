"""The public sign-up page, the applicant's status page and the e-mail verification link."""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from accounts.models import AccountPreferences, PhoneCode, Registration, RegistrationStatus, User
from saypro.sla.models import Clock, ClockState

pytestmark = pytest.mark.django_db

FORM = {
    "email": "lerato.mokoena@example.com",
    "password": "a-long-and-unusual-passphrase",
    "full_name": "Lerato Mokoena",
    "phone": "+27 82 555 0199",
    "country": "ZA",
    "region": "Gauteng",
    "language": "en",
    "age_band": "25-34",
    "accepted_terms": "on",
    "website": "",
}


@pytest.fixture(autouse=True)
def sms_to_files(settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "sms"


def served_form(client) -> dict[str, str]:
    """The form as a browser would post it: the fields plus the signed time the page was served."""
    response = client.get("/register/")
    token = re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)
    return {**FORM, "form_token": token}


def sign_up(client, capture, **changes):
    """Sign up, and when the page accepted it, sign in with the address and password as the applicant then does."""
    data = {**served_form(client), **changes}
    with capture(execute=True):
        response = client.post("/register/", data)
    if response.status_code == 302 and response["Location"] == reverse("accounts:register-sent"):
        client.post(reverse("login"), {"username": data["email"], "password": data["password"]})
    return response


def last_sms_code(folder) -> str:
    lines = [json.loads(line) for path in sorted(folder.glob("*.log")) for line in path.read_text().splitlines()]
    return re.search(r"\b(\d{6})\b", lines[-1]["body"]).group(1)


def verification_link(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email] and "/register/verify-email/" in m.body)
    return re.search(r"(/register/verify-email/[^/\s]+/)", message.body).group(1)


# --- Sign-up --------------------------------------------------------------------------------------------------


def test_register_page_serves_a_signed_timestamp_and_a_css_hidden_honeypot(client):
    content = client.get("/register/").content.decode()
    assert 'name="form_token"' in content
    honeypot = re.search(r"<input[^>]*name=\"website\"[^>]*>", content).group(0)
    assert 'type="text"' in honeypot and 'tabindex="-1"' in honeypot
    assert '<div class="hp-field" aria-hidden="true">' in content


def test_sign_up_submits_the_registration_and_the_applicant_signs_in_to_follow_it(
    client, django_capture_on_commit_callbacks
):
    data = served_form(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", data)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:register-sent")
    assert "_auth_user_id" not in client.session
    sent = client.get(response["Location"])
    assert b"Check your inbox" in sent.content and FORM["email"].encode() in sent.content
    registration = Registration.objects.select_related("user").get()
    assert registration.user.email == FORM["email"] and registration.user.check_password(FORM["password"])
    assert registration.submitted_at is not None and registration.is_pending
    assert registration.ip_address == "127.0.0.1" and registration.phone_e164 == "+27825550199"
    assert Clock.objects.get(target_id=registration.pk).state == ClockState.RUNNING
    assert {message.to[0] for message in mail.outbox} == {FORM["email"]}
    signed_in = client.post(reverse("login"), {"username": FORM["email"], "password": FORM["password"]})
    assert signed_in["Location"] == reverse("accounts:register-status")
    status = client.get(signed_in["Location"])
    assert status.status_code == 200
    assert b"at the latest" in status.content and b"Resend the link" in status.content


@time_machine.travel("2026-03-02 08:00:00Z")
def test_form_seconds_come_from_the_signed_serving_time(client, django_capture_on_commit_callbacks):
    data = served_form(client)
    with time_machine.travel("2026-03-02 08:00:40Z"), django_capture_on_commit_callbacks(execute=True):
        client.post("/register/", data)
    assert 39 <= Registration.objects.get().form_seconds <= 41


@pytest.mark.parametrize(
    "token", ["", "forged", signing.dumps(0, salt="another-form")], ids=["missing", "forged", "other-salt"]
)
def test_a_missing_or_forged_form_token_counts_as_an_instant_post(client, django_capture_on_commit_callbacks, token):
    sign_up(client, django_capture_on_commit_callbacks, form_token=token)
    assert Registration.objects.get().form_seconds == 0.0


def test_a_filled_honeypot_is_recorded_for_screening_without_telling_the_bot(
    client, django_capture_on_commit_callbacks
):
    response = sign_up(client, django_capture_on_commit_callbacks, website="http://spam.example")
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.honeypot_filled
    assert registration.signals.filter(code="honeypot").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+1 555"}, "phone"),
        ({"password": "12345678"}, "password"),
        ({"age_band": "99+"}, "age_band"),
        ({"country": "XX"}, "country"),
    ],
)
def test_bad_input_is_shown_on_the_field(client, django_capture_on_commit_callbacks, changes, field):
    response = sign_up(client, django_capture_on_commit_callbacks, **changes)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Registration.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "size"),
    [
        ("email", 300),
        ("full_name", 151),
        ("full_name", 10_000),
        ("region", 101),
        ("phone", 40),
        ("password", 500),
        ("website", 5_000),
    ],
)
def test_oversized_fields_are_form_errors_not_server_errors(client, django_capture_on_commit_callbacks, field, size):
    value = ("a" * (size - len("@example.com")) + "@example.com") if field == "email" else "7" * size
    response = sign_up(client, django_capture_on_commit_callbacks, **{field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Registration.objects.exists()


def test_an_address_already_registered_gets_the_same_page_and_its_owner_an_e_mail(
    client, django_capture_on_commit_callbacks
):
    owner = User.objects.create_user(email=FORM["email"], password="the-owners-own-passphrase")
    data = {**served_form(client), "email": FORM["email"].upper(), "phone": "+27825550188"}
    with django_capture_on_commit_callbacks(execute=True):
        taken = client.post("/register/", data)
    new_data = {**served_form(client), "email": "newcomer@example.com"}
    with django_capture_on_commit_callbacks(execute=True):
        new = client.post("/register/", new_data)
    assert taken.status_code == new.status_code == 302 and taken["Location"] == new["Location"]
    assert list(Registration.objects.values_list("user__email", flat=True)) == ["newcomer@example.com"]
    owner.refresh_from_db()
    assert owner.check_password("the-owners-own-passphrase")
    notice = next(m for m in mail.outbox if m.to == [FORM["email"]])
    assert "tried to sign up" in notice.subject and "/accounts/login/" in notice.body


def test_an_id_document_uploaded_at_sign_up_reaches_the_reviewers(client, django_capture_on_commit_callbacks):
    document = SimpleUploadedFile("passport.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    sign_up(client, django_capture_on_commit_callbacks, id_document=document)
    registration = Registration.objects.get()
    assert registration.id_document.name.endswith("passport.pdf")
    assert registration.id_document.read() == b"%PDF-1.4 test"


def test_an_unsupported_id_document_is_a_form_error(client, django_capture_on_commit_callbacks):
    document = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = sign_up(client, django_capture_on_commit_callbacks, id_document=document)
    assert response.status_code == 400 and response.context["form"].errors["id_document"]
    assert not Registration.objects.exists()


def test_sign_ups_from_one_address_are_rate_limited(client, django_capture_on_commit_callbacks, settings):
    from accounts import views

    for index in range(views.REGISTER_PAGE_LIMIT):
        response = sign_up(
            client, django_capture_on_commit_callbacks, email=f"user{index}@example.com", phone=f"+2782555{index:04d}"
        )
        assert response.status_code == 302
        client.logout()
    response = sign_up(client, django_capture_on_commit_callbacks, email="late@example.com", phone="+27825559999")
    assert response.status_code == 400 and b"Too many sign-ups" in response.content


def test_a_signed_in_applicant_is_sent_to_the_status_page(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    response = client.get("/register/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:register-status")


# --- Status page ----------------------------------------------------------------------------------------------


def test_status_page_needs_a_registration(client, user):
    client.force_login(user)
    assert client.get("/register/status/").status_code == 404


def test_applicant_confirms_the_phone_from_the_status_page(client, django_capture_on_commit_callbacks, sms_to_files):
    sign_up(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/status/phone/send/", follow=True)
    assert "We sent a 6-digit code to +27825550199." in [str(m) for m in response.context["messages"]]
    wrong = client.post("/register/status/phone/confirm/", {"code": "000000"})
    code = last_sms_code(sms_to_files)
    if code == "000000":
        pytest.skip("the random code happened to be 000000")
    assert wrong.status_code == 200 and "attempts left" in wrong.context["phone_form"].errors["code"][0]
    malformed = client.post("/register/status/phone/confirm/", {"code": "12ab"})
    assert malformed.context["phone_form"].errors["code"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/status/phone/confirm/", {"code": code})
    assert Registration.objects.get().phone_verified_at is not None
    assert b"Not confirmed yet</span>" not in client.get("/register/status/").content


def test_asking_for_codes_too_often_is_a_message_not_an_error(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/register/status/phone/send/")
        response = client.post("/register/status/phone/send/", follow=True)
    assert response.status_code == 200
    assert any("wait a minute" in str(m) for m in response.context["messages"])
    assert PhoneCode.objects.count() == 1


def test_resending_the_verification_email(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/status/resend-email/", follow=True)
    assert len(mail.outbox) == sent + 1
    assert f"We sent a new confirmation link to {FORM['email']}." in [str(m) for m in response.context["messages"]]


def test_applicant_answers_a_request_for_information(client, django_capture_on_commit_callbacks, reviewer):
    from accounts import services

    sign_up(client, django_capture_on_commit_callbacks)
    registration = Registration.objects.get()
    services.registration_request_info(registration=registration, by=reviewer, message="Please upload your ID.")
    page = client.get("/register/status/")
    assert b"Please upload your ID." in page.content and b"Send my answer" in page.content
    empty = client.post("/register/status/answer/", {"message": ""})
    assert empty.status_code == 200 and empty.context["info_form"].errors["message"]
    document = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    client.post("/register/status/answer/", {"message": "Attached.", "id_document": document})
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.info_response == "Attached." and registration.id_document


def test_answering_when_nothing_was_asked_is_a_message(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    response = client.post("/register/status/answer/", {"message": "Hello"}, follow=True)
    assert response.status_code == 200
    assert "No information has been requested." in [str(m) for m in response.context["messages"]]


# --- E-mail verification link --------------------------------------------------------------------------------


def test_email_link_verifies_once_and_then_says_it_was_used(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks)
    link = verification_link(FORM["email"])
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(link)
    assert response.status_code == 200 and b"is confirmed" in response.content
    assert Registration.objects.get().email_verified_at is not None
    replay = client.get(link)
    assert replay.status_code == 400 and b"invalid, expired or already used" in replay.content


def test_expired_email_link_is_refused(client, django_capture_on_commit_callbacks, settings):
    with time_machine.travel("2026-03-02 08:00:00Z"):
        sign_up(client, django_capture_on_commit_callbacks)
    link = verification_link(FORM["email"])
    with time_machine.travel("2026-03-10 08:00:00Z"):
        response = client.get(link)
    assert response.status_code == 400 and b"This link does not work" in response.content
    assert Registration.objects.get().email_verified_at is None


@pytest.mark.parametrize("token", ["nonsense", "MQ.abc-def", "%00", "x" * 300])
def test_forged_email_links_are_refused(client, token):
    response = client.get(f"/register/verify-email/{token}/")
    assert response.status_code == 400


def test_sign_up_shows_the_privacy_notice_and_records_the_consent_with_its_versions(client, settings):
    page = client.get("/register/").content.decode()
    assert 'data-testid="privacy-summary"' in page and 'href="/privacy/"' in page and 'href="/terms/"' in page
    assert "Version 2026-01" in client.get("/privacy/").content.decode()
    settings.TERMS_VERSION = "2026-07"
    response = sign_up(client, TestCase.captureOnCommitCallbacks)
    assert response.status_code == 302
    registration = Registration.objects.get(user__email=FORM["email"])
    assert (registration.privacy_version, registration.terms_version) == ("2026-01", "2026-07")
    assert registration.consented_at is not None
    preferences = AccountPreferences.objects.get(user=registration.user)
    assert preferences.data_processing_consent and preferences.consent_policy_version == "2026-01"


def test_sign_up_without_consent_is_refused_and_keeps_what_was_typed(client):
    response = sign_up(client, TestCase.captureOnCommitCallbacks, accepted_terms="")
    assert response.status_code == 400
    assert "accept the terms of use to sign up" in response.content.decode()
    assert response.context["form"]["full_name"].value() == FORM["full_name"]
    assert not Registration.objects.exists()


def test_under_18_applicants_are_refused_with_a_clear_message(client):
    response = sign_up(client, TestCase.captureOnCommitCallbacks, age_band="u18")
    assert response.status_code == 400
    assert "SayPro is for people aged 18 and over" in response.content.decode()
    assert not Registration.objects.exists()


def test_countries_and_languages_are_listed_by_name(client):
    form = client.get("/register/").context["form"]
    countries = dict(form.fields["country"].choices)
    assert countries["ZA"] == "South Africa"
    assert (countries["AC"], countries["BL"], countries["EH"]) == (
        "Ascension Island",
        "St. Barthélemy",
        "Western Sahara",
    )
    assert all(name != code for code, name in countries.items() if code)
    assert dict(form.fields["language"].choices)["zu"] == "isiZulu (Zulu)"


def test_staff_pages_show_the_applicants_country_and_language_by_name(as_):
    from tests.factories import RegistrationFactory

    registration = RegistrationFactory(user__country="NG", user__language="zu", status=RegistrationStatus.NEEDS_REVIEW)
    page = as_("reviewer").get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    assert "Nigeria" in page and "Zulu" in page
