"""Document 001's account figures: sign-up conversion counted from the visitors who start the form (recorded by
the page and the API), active users as the share who signed in, deletion requests and deactivations. Each figure
is checked against a count made here in plain Python over the rows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import metrics, self_service, services
from accounts.models import (
    AccountEvent,
    AccountStatus,
    ActivityDay,
    DeletionRequest,
    FeatureRelease,
    FeatureUse,
    NpsPrompt,
    SignUpStart,
)
from saypro import periods
from saypro.figures.registry import figure_read
from tests.accounts.helpers import SIGNUP, signup
from tests.accounts.test_register_page import FORM
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
LOCAL = ZoneInfo("Africa/Johannesburg")
MARCH = periods.from_slug("2026-03")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


NOW = local(2026, 4, 10, 9)


@pytest.fixture(autouse=True)
def no_limits_left_over():
    cache.clear()


def start_key(page: str) -> str:
    return re.search(r'name="start" value="([0-9a-f]{32})"', page).group(1)


def current(key: str):
    return figure_read(key, MARCH, now=NOW).current


# --- Where a sign-up starts ------------------------------------------------------------------------------------


def test_the_sign_up_page_counts_a_start_once_and_the_posted_form_completes_it(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    page = client.get("/register/?campaign=spring").content.decode()
    key = start_key(page)
    assert 'data-signup-start="/register/start/?campaign=spring"' in page
    # The page reports the first keystroke; a second report of the same form is the same start.
    assert client.post("/register/start/?campaign=spring", {"start": key}).status_code == 204
    assert client.post("/register/start/?campaign=spring", {"start": key}).status_code == 204
    start = SignUpStart.objects.get()
    assert (start.token, start.channel, start.campaign, start.registration) == (key, "web", "spring", None)

    response = client.post("/register/?campaign=spring", {**FORM, "start": key})
    assert response.status_code == 302
    start.refresh_from_db()
    assert start.registration is not None and start.registration.user.email == FORM["email"]
    assert SignUpStart.objects.count() == 1


def test_a_form_posted_without_its_start_still_starts_and_completes_once(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert client.post("/register/", {**FORM, "start": ""}).status_code == 302
    start = SignUpStart.objects.get()
    assert start.channel == "web" and start.registration.started_at == start.started_at


@pytest.mark.parametrize("key", ["", "not-a-key", "A" * 32, "0" * 31, "0" * 31 + "\x00"])
def test_a_start_report_without_a_valid_key_is_refused_and_counts_nothing(client, key):
    response = client.post("/register/start/", {"start": key})
    assert response.status_code == 400
    assert not SignUpStart.objects.exists()


def test_start_reports_are_limited_per_network(client, settings):
    keys = [f"{n:032x}" for n in range(65)]
    codes = [client.post("/register/start/", {"start": key}).status_code for key in keys]
    assert codes.count(204) == 60 and codes[-1] == 429
    assert SignUpStart.objects.count() == 60


def test_an_app_gets_a_start_key_and_sends_it_with_the_sign_up(django_capture_on_commit_callbacks):
    api = APIClient()
    started = api.post("/api/v1/registrations/starts/", {"campaign": "radio"}, format="json")
    assert started.status_code == 201
    key = started.json()["start"]
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/registrations/", {**SIGNUP, "start": key}, format="json")
    assert created.status_code == 202
    start = SignUpStart.objects.get(token=key)
    assert (start.channel, start.campaign, start.registration.user.email) == ("api", "radio", SIGNUP["email"])


def test_a_start_key_used_twice_does_not_take_over_the_first_registration(django_capture_on_commit_callbacks):
    key = services.signup_start_record(token=services.signup_start_token(), channel="api").token
    first = signup(start=key)
    second = signup(start=key, email="second@example.com", phone="+27 82 555 0102")
    assert SignUpStart.objects.get(token=key).registration == first
    assert SignUpStart.objects.get(registration=second).token != key


def test_a_malformed_start_key_on_the_api_is_a_field_error():
    response = APIClient().post("/api/v1/registrations/", {**SIGNUP, "start": "x" * 40}, format="json")
    assert response.status_code == 400
    assert "start" in response.json()["error"]["fields"]


# --- The figures -----------------------------------------------------------------------------------------------


def test_form_conversion_counts_submissions_of_the_visitors_who_started_the_form():
    march = local(2026, 3, 10, 12)
    # Four visitors start in March: one leaves before opening an account, one opens it and stops, two submit; a
    # fifth starts on the last day of February and submits in March (February's).
    for n in range(4):
        SignUpStart.objects.create(token=f"{n:032x}", channel="web", started_at=march)
    SignUpStart.objects.create(token=f"{9:032x}", channel="web", started_at=local(2026, 2, 28, 23))
    opened = signup(start=f"{1:032x}", email="opened@example.com", phone="+27 82 555 0103")
    for n, email in ((2, "a@example.com"), (3, "b@example.com"), (9, "c@example.com")):
        registration = signup(start=f"{n:032x}", email=email, phone=f"+27 82 555 01{10 + n}")
        services.registration_submit(registration=registration)

    rows = [s for s in SignUpStart.objects.select_related("registration") if MARCH.contains(s.started_at)]
    completed = [s for s in rows if s.registration and s.registration.submitted_at]
    reading = current("registrations.form_conversion")
    assert (reading.n, reading.value) == (len(rows), 100 * len(completed) / len(rows)) == (4, 50.0)
    assert reading.parts["started"] == 4 and reading.parts["created"] == 3 and reading.parts["submitted"] == 2
    assert opened.submitted_at is None


def test_active_share_is_who_signed_in_among_those_who_had_an_account():
    before = local(2026, 1, 5)
    ana, ben, carla = (UserFactory(date_joined=before) for _ in range(3))
    staff = UserFactory(date_joined=before, is_staff=True)
    gone = UserFactory(date_joined=before, status=AccountStatus.DELETED, status_changed_at=local(2026, 2, 1))
    late_leaver = UserFactory(date_joined=before, status=AccountStatus.DELETED, status_changed_at=local(2026, 3, 20))
    UserFactory(date_joined=local(2026, 4, 2))  # joined after March
    for user, at in (
        (ana, local(2026, 3, 3)),
        (ana, local(2026, 3, 4)),  # twice: one active user
        (ben, local(2026, 3, 31, 23, 30)),
        (carla, local(2026, 4, 1, 0, 5)),  # April's
        (staff, local(2026, 3, 3)),
        (late_leaver, local(2026, 3, 2)),
    ):
        AccountEvent.objects.create(user=user, kind=Kind.SIGN_IN, at=at)
    AccountEvent.objects.create(user=carla, kind=Kind.SIGN_IN_FAILED, at=local(2026, 3, 3))

    accounts = {ana, ben, carla, late_leaver}  # staff, the account deleted in February and April's are not
    signed_in = {e.user for e in AccountEvent.objects.filter(kind=Kind.SIGN_IN) if MARCH.contains(e.at)} & accounts
    reading = current("accounts.active_share")
    assert (reading.n, reading.parts["active"]) == (len(accounts), len(signed_in)) == (4, 3)
    assert reading.value == 75.0
    assert gone not in accounts


def test_deletion_requests_and_deactivations_by_their_users():
    ana, ben, carla = UserFactory.create_batch(3)
    admin = UserFactory(is_staff=True, is_superuser=True)
    DeletionRequest.objects.create(user=ana, requested_at=local(2026, 3, 2))
    DeletionRequest.objects.create(
        user=ben, requested_at=local(2026, 3, 5), status=DeletionRequest.Status.COMPLETED, decided_at=NOW
    )
    DeletionRequest.objects.create(user=carla, requested_at=local(2026, 2, 27), status=DeletionRequest.Status.CANCELLED)
    AccountEvent.objects.create(user=ana, actor=ana, kind=Kind.DEACTIVATED, at=local(2026, 3, 9))
    AccountEvent.objects.create(user=ben, actor=admin, kind=Kind.DEACTIVATED, at=local(2026, 3, 9))

    requests = current("accounts.deletion_requests")
    assert (requests.value, requests.n, requests.pending, requests.parts["completed"]) == (2, 2, 1, 1)
    deactivated = current("accounts.deactivations")
    assert (deactivated.value, deactivated.n) == (1, 1)


def test_the_sections_show_the_figures_and_the_form_drop_off(manager, client):
    SignUpStart.objects.create(token=f"{1:032x}", channel="web", started_at=timezone.now() - timedelta(hours=1))
    client.force_login(manager)
    page = client.get("/dashboard/areas/accounts/")
    assert page.status_code == 200
    figures = {f.key for s in page.context["sections"] for f in s.figures}
    assert {"registrations.form_conversion", "accounts.active_share", "accounts.deletion_requests"} <= figures
    tables = {t.key: t for s in page.context["sections"] for t in s.tables}
    funnel = tables["registrations_form_funnel"]
    assert funnel.rows[0][:2] == ["Started the form", 1] and funnel.rows[1][:2] == ["Account created", 0]


# --- The NPS question ----------------------------------------------------------------------------------------


def _signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_managing_the_account_asks_the_nps_question_once_a_quarter_and_the_answer_closes_it():
    user = UserFactory()
    api = _signed_in(user)
    assert api.get("/api/v1/account/prompts/").json() == []
    with time_machine.travel(local(2026, 3, 2, 10), tick=False):
        self_service.profile_update(user=user, region="Western Cape")
        self_service.preferences_update(user=user, product_updates=True)  # the same quarter: not asked again
        prompts = api.get("/api/v1/account/prompts/").json()
    assert [(p["topic"], p["after"], p["low"], p["high"]) for p in prompts] == [("nps", "profile_updated", 0, 10)]
    with time_machine.travel(local(2026, 3, 3, 10), tick=False):
        answered = api.post("/api/v1/account/feedback/", {"topic": "nps", "score": 9}, format="json")
        assert answered.status_code == 201
        assert api.get("/api/v1/account/prompts/").json() == []
    prompt = NpsPrompt.objects.get()
    assert prompt.feedback.score == 9 and prompt.answered_at == local(2026, 3, 3, 10)
    # A quarter later the next account change asks again.
    with time_machine.travel(local(2026, 6, 5, 10), tick=False):
        self_service.profile_update(user=user, region="Northern Cape")
    assert NpsPrompt.objects.count() == 2


def test_an_unanswered_question_lapses_and_staff_edits_and_staff_accounts_ask_nothing():
    user, agent = UserFactory(), UserFactory(is_staff=True)
    with time_machine.travel(local(2026, 3, 2, 10), tick=False):
        self_service.profile_update(user=user, region="Limpopo", by=agent)  # staff changed it: no question
        self_service.profile_update(user=agent, region="Northern Cape")
    assert not NpsPrompt.objects.exists()
    with time_machine.travel(local(2026, 3, 2, 10), tick=False):
        self_service.profile_update(user=user, region="Free State")
    with time_machine.travel(local(2026, 3, 17, 10), tick=False):
        assert _signed_in(user).get("/api/v1/account/prompts/").json() == []
        # An answer given anyway is kept, without a question to close.
        self_service.feedback_submit(user=user, topic="nps", score=3)
    assert NpsPrompt.objects.get().answered_at is None


def test_the_share_of_asked_users_who_answered():
    ana, ben = UserFactory.create_batch(2)
    with time_machine.travel(local(2026, 3, 2, 10), tick=False):
        for user in (ana, ben):
            self_service.profile_update(user=user, region="Northern Cape")
        self_service.feedback_submit(user=ana, topic="nps", score=10)
    asked = [p for p in NpsPrompt.objects.all() if MARCH.contains(p.asked_at)]
    reading = current("accounts.nps_answered")
    assert (reading.n, reading.value) == (len(asked), 100 * sum(bool(p.answered_at) for p in asked) / len(asked))
    assert (reading.n, reading.value) == (2, 50.0)


# --- Newly released features -----------------------------------------------------------------------------------


def test_an_app_reports_uses_of_a_released_feature_and_the_report_counts_who_used_it(manager, client):
    ana, ben, carla = UserFactory.create_batch(3)
    FeatureRelease.objects.create(key="saved-searches", name="Saved searches", released_on=local(2026, 3, 1).date())
    FeatureRelease.objects.create(key="video-ads", name="Video ads", released_on=local(2026, 12, 1).date())
    with time_machine.travel(local(2026, 3, 10, 9), tick=False):
        listed = _signed_in(ana).get("/api/v1/account/features/").json()
        assert [f["key"] for f in listed] == ["saved-searches"]  # video ads are not released yet
        for user, times in ((ana, 2), (ben, 1)):
            for _ in range(times):
                response = _signed_in(user).post("/api/v1/account/features/", {"feature": "saved-searches"})
                assert response.status_code == 204
        refused = _signed_in(carla).post("/api/v1/account/features/", {"feature": "video-ads"})
        assert refused.status_code == 400 and "feature" in refused.json()["error"]["fields"]
        for user in (ana, ben, carla):
            ActivityDay.objects.create(user=user, day=local(2026, 3, 10).date(), sign_ins=1)
    assert sorted(FeatureUse.objects.values_list("user__email", "uses")) == sorted([(ana.email, 2), (ben.email, 1)])

    adoption = {f.name: f for f in metrics.feature_adoption(start=local(2026, 3, 1), end=local(2026, 4, 1))}
    assert list(adoption) == ["Saved searches"]
    assert (adoption["Saved searches"].users, adoption["Saved searches"].uses) == (2, 3)
    assert adoption["Saved searches"].share == pytest.approx(2 / 3)

    client.force_login(manager)
    page = client.get("/dashboard/areas/accounts/", {"period": "month", "day": "2026-03-15"})
    table = {t.key: t for s in page.context["sections"] for t in s.tables}["engagement_new_features"]
    assert table.rows == [["Saved searches", "01 Mar 2026", 2, 3, 66.7]]


def test_a_feature_use_without_a_key_is_a_field_error():
    response = _signed_in(UserFactory()).post("/api/v1/account/features/", {"feature": "not a key!"})
    assert response.status_code == 400 and "feature" in response.json()["error"]["fields"]
