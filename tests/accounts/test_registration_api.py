"""The registration API: the applicant's own steps, the staff queue, permissions, errors and query counts."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts import selectors, services
from accounts.models import Registration, RegistrationStatus
from tests.accounts.helpers import SIGNUP, submitted
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/registrations/"
ME = "/api/v1/registrations/me/"
STAFF = "/api/v1/staff/registrations/"


@pytest.fixture
def api():
    return APIClient()


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error_shape(response, status, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    if field:
        assert field in body["error"]["fields"], body


def applicant_client(api: APIClient, signup: dict | None = None) -> APIClient:
    """Sign up, then sign in with the address and password chosen, as an applicant's app does."""
    signup = signup or SIGNUP
    assert api.post(CREATE, signup, format="json").status_code == 202
    signed_in = api.post("/api/v1/auth/token/", {"email": signup["email"], "password": signup["password"]})
    assert signed_in.status_code == 200, signed_in.content
    return APIClient(HTTP_AUTHORIZATION=f"Token {signed_in.json()['token']}")


def test_sign_up_is_accepted_and_the_applicant_signs_in_to_follow_it(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(CREATE, SIGNUP, format="json", HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"email", "detail"} and body["email"] == SIGNUP["email"]
    assert "token" not in body and "password" not in body
    registration = Registration.objects.get()
    assert registration.device_type == "mobile"
    signed_in = api.post("/api/v1/auth/token/", {"email": SIGNUP["email"], "password": SIGNUP["password"]})
    applicant = APIClient(HTTP_AUTHORIZATION=f"Token {signed_in.json()['token']}")
    own = applicant.get(ME).json()
    assert own["id"] == registration.pk and own["status"] == RegistrationStatus.VERIFYING
    assert own["deadline"] is not None


def test_sign_up_answers_the_same_for_an_address_that_has_an_account_and_tells_its_owner(
    api, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="owner@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        new = api.post(CREATE, {**SIGNUP, "email": "newcomer@example.com"}, format="json")
        taken = api.post(CREATE, {**SIGNUP, "email": "Owner@Example.com", "phone": "+27 82 555 0102"}, format="json")
    assert new.status_code == taken.status_code == 202
    assert set(new.json()) == set(taken.json()) and new.json()["detail"] == taken.json()["detail"]
    assert taken.json()["email"] == "owner@example.com"
    assert list(Registration.objects.values_list("user__email", flat=True)) == ["newcomer@example.com"]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD) and not hasattr(owner, "registration")
    notice = next(m for m in mail.outbox if m.to == ["owner@example.com"])
    assert "tried to sign up" in notice.subject and "/accounts/password-reset/" in notice.body
    assert not any("/register/verify-email/" in m.body for m in mail.outbox if m.to == ["owner@example.com"])

    # Trying again within the hour does not flood the owner's inbox.
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(CREATE, {**SIGNUP, "email": "owner@example.com"}, format="json").status_code == 202
    assert len([m for m in mail.outbox if m.to == ["owner@example.com"]]) == 1


def test_other_invalid_fields_are_reported_alike_for_new_and_taken_addresses(api):
    UserFactory(email="owner@example.com")
    new = api.post(CREATE, {**SIGNUP, "email": "newcomer@example.com", "phone": "123"}, format="json")
    taken = api.post(CREATE, {**SIGNUP, "email": "owner@example.com", "phone": "123"}, format="json")
    assert new.status_code == taken.status_code == 400
    assert new.json() == taken.json() and set(new.json()["error"]["fields"]) == {"phone"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "nope"), ("phone", "123"), ("full_name", "x" * 151), ("age_band", "old"), ("email", "a" * 300)],
)
def test_sign_up_bad_input_gets_the_error_shape_with_field_messages(api, field, value):
    response = api.post(CREATE, {**SIGNUP, field: value}, format="json")
    assert_error_shape(response, 400, field)
    assert Registration.objects.count() == 0


def test_sign_up_with_malformed_json_is_a_clear_400(api):
    response = api.generic("POST", CREATE, "{not json", content_type="application/json")
    assert_error_shape(response, 400)


def test_applicant_verifies_email_and_phone_through_the_api(
    api, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    with django_capture_on_commit_callbacks(execute=True):
        applicant = applicant_client(api)
    link = next(m.body for m in mail.outbox if "/register/verify-email/" in m.body)
    email_token = re.search(r"/register/verify-email/([^/\s]+)/", link).group(1)
    assert api.post("/api/v1/registrations/verify-email/", {"token": email_token}, format="json").status_code == 200
    assert_error_shape(api.post("/api/v1/registrations/verify-email/", {"token": email_token}, format="json"), 400)
    with django_capture_on_commit_callbacks(execute=True):
        assert applicant.post("/api/v1/registrations/me/phone/send/").status_code == 202
    assert_error_shape(applicant.post("/api/v1/registrations/me/phone/send/"), 429)
    sms = next(tmp_path.glob("*.log")).read_text()
    code = re.search(r"code is (\d{6})", sms).group(1)
    assert_error_shape(
        applicant.post("/api/v1/registrations/me/phone/confirm/", {"code": "12"}, format="json"), 400, "code"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = applicant.post("/api/v1/registrations/me/phone/confirm/", {"code": code}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == RegistrationStatus.APPROVED


def test_applicant_endpoints_need_a_signed_in_applicant(api, reviewer):
    assert_error_shape(api.get(ME), 401)
    # A staff member without a registration has no "own registration".
    assert_error_shape(as_user(reviewer).get(ME), 404)


def test_staff_queue_is_for_reviewers_and_administrators_only(
    api, reviewer, administrator, agent, moderator, manager, user
):
    submitted()
    assert_error_shape(api.get(STAFF), 401)
    for person in (agent, moderator, manager, user):
        assert_error_shape(as_user(person).get(STAFF), 403)
    for person in (reviewer, administrator):
        assert as_user(person).get(STAFF).status_code == 200


def test_applicant_cannot_use_staff_endpoints_on_their_own_registration(api, django_capture_on_commit_callbacks):
    applicant = applicant_client(api)
    pk = Registration.objects.get().pk
    assert_error_shape(applicant.post(f"{STAFF}{pk}/approve/", {}, format="json"), 403)
    assert_error_shape(applicant.get(f"{STAFF}{pk}/"), 403)


def test_staff_queue_filters_and_orders_by_deadline(reviewer):
    import time_machine

    with time_machine.travel("2026-03-02 08:00:00Z", tick=False):
        late = submitted(email="late@mailinator.com", phone="+27825550601", country="ZA")
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        early_ng = submitted(email="ng@example.com", phone="+2348031234567", country="NG")
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        client = as_user(reviewer)
        ids = [row["id"] for row in client.get(STAFF).json()["results"]]
        assert ids == [late.pk, early_ng.pk]
        assert [r["id"] for r in client.get(STAFF, {"country": "NG"}).json()["results"]] == [early_ng.pk]
        rows = client.get(STAFF, {"reason": "disposable_email"}).json()["results"]
        assert [r["id"] for r in rows] == [late.pk]
        assert rows[0]["signals"][0]["code"] == "disposable_email"
        assert [r["id"] for r in client.get(STAFF, {"risk_min": 50}).json()["results"]] == [late.pk]
        assert [r["id"] for r in client.get(STAFF, {"q": "ng@"}).json()["results"]] == [early_ng.pk]
        assert_error_shape(client.get(STAFF, {"status": "bogus"}), 400, "status")


def test_staff_queue_query_count_does_not_grow_with_rows(reviewer, django_assert_max_num_queries):
    client = as_user(reviewer)
    for n in range(3):
        submitted(email=f"q{n}@example.com", phone=f"+2782555070{n}")
    with django_assert_max_num_queries(6):
        assert len(client.get(STAFF).json()["results"]) == 3
    for n in range(3, 30):
        submitted(email=f"q{n}@example.com", phone=f"+278255507{n:02d}")
    with django_assert_max_num_queries(6):
        assert len(client.get(STAFF).json()["results"]) == 30


def test_staff_queue_builds_its_queryset_once_a_request(reviewer, monkeypatch):
    built = []
    queue = selectors.registration_queue
    monkeypatch.setattr(selectors, "registration_queue", lambda **kwargs: built.append(kwargs) or queue(**kwargs))
    submitted(email="once@example.com", phone="+27825550799", country="NG")
    assert len(as_user(reviewer).get(STAFF, {"country": "NG"}).json()["results"]) == 1
    assert built == [{"country": "NG"}]


def test_staff_queue_pages_by_cursor_and_a_decision_between_pages_shifts_nothing(
    reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    for n in range(5):
        submitted(email=f"p{n}@example.com", phone=f"+2782555080{n}")
    client = as_user(reviewer)
    whole = [row["id"] for row in client.get(STAFF).json()["results"]]
    with django_assert_max_num_queries(8) as top:
        first = client.get(STAFF, {"page_size": 2}).json()
    first_page_queries = len(top.captured_queries)  # read before the next request resets the log
    assert [row["id"] for row in first["results"]] == whole[:2] and first["next"]
    client.post(f"{STAFF}{whole[0]}/approve/", {"reason": "ok"}, format="json")
    with django_assert_num_queries(first_page_queries):
        second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == whole[2:4]
    last = client.get(second["next"]).json()
    assert [row["id"] for row in last["results"]] == whole[4:] and last["next"] is None


def test_approve_and_reject_endpoints(reviewer, administrator):
    one = submitted(email="one@example.com", phone="+27825550901")
    two = submitted(email="two@example.com", phone="+27825550902")
    client = as_user(reviewer)
    response = client.post(f"{STAFF}{one.pk}/approve/", {"reason": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert_error_shape(client.post(f"{STAFF}{two.pk}/reject/", {}, format="json"), 400, "reason")
    assert client.post(f"{STAFF}{two.pk}/reject/", {"reason": "fake"}, format="json").json()["status"] == "rejected"
    conflict = as_user(administrator).post(f"{STAFF}{one.pk}/reject/", {"reason": "x"}, format="json")
    assert_error_shape(conflict, 409)
    assert "already approved by reviewer@saypro.example" in conflict.json()["error"]["message"]
    assert_error_shape(client.post(f"{STAFF}999999/approve/", {}, format="json"), 404)
    assert_error_shape(
        client.post(f"{STAFF}{one.pk}/approve/", {"delay_cause": "nonsense"}, format="json"), 400, "delay_cause"
    )


def test_support_agent_cannot_approve(agent):
    registration = submitted()
    assert_error_shape(as_user(agent).post(f"{STAFF}{registration.pk}/approve/", {}, format="json"), 403)
    registration.refresh_from_db()
    assert registration.status != RegistrationStatus.APPROVED


def test_an_id_document_is_judged_by_its_content_not_by_the_type_the_client_declares(reviewer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Screening sends a disposable address to a reviewer.
    registration = submitted(email="applicant@mailinator.com")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    services.registration_request_info(registration=registration, by=reviewer, message="Send your ID")
    applicant = as_user(registration.user)
    # A Windows program's header, declared as a PNG image.
    program = SimpleUploadedFile("passport.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", content_type="image/png")
    response = applicant.post(f"{ME}info/", {"message": "Here it is", "id_document": program}, format="multipart")
    assert_error_shape(response, 400, "id_document")
    assert response.json()["error"]["fields"]["id_document"] == ["Upload a PDF, JPEG or PNG file."]
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.INFO_REQUESTED and not registration.id_document
    # A real image declared as a web page is accepted, and named so that it is served as the image it is.
    image = SimpleUploadedFile("passport.html", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="text/html")
    response = applicant.post(f"{ME}info/", {"message": "Here it is", "id_document": image}, format="multipart")
    assert response.status_code == 200, response.content
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.id_document.name.endswith("passport.html.png")


def test_api_sign_up_needs_consent_and_an_adult(api):
    refused = api.post(CREATE, {**SIGNUP, "accepted_terms": False}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["accepted_terms"]
    minor = api.post(CREATE, {**SIGNUP, "age_band": "u18"}, format="json")
    assert minor.status_code == 400
    assert minor.json()["error"]["fields"]["age_band"] == [
        "SayPro is for people aged 18 and over: you cannot open an account."
    ]
    assert not Registration.objects.exists()
    assert api.post(CREATE, SIGNUP, format="json").status_code == 202
    assert Registration.objects.get().terms_version == "2026-01"
