"""Staff pages: the dashboard, the review queue, registration detail and block rules, per persona."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import BlockRule, DelayCause, Registration, RegistrationSignal, RegistrationStatus
from saypro.sla.models import Clock, ClockState
from saypro.sla.services import clock_start, clock_stop
from tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

METRIC = "registration.approval"
Code = RegistrationSignal.Code
PERSONAS = ["user", "outsider", "agent", "moderator", "manager", "reviewer", "administrator"]


def pending(
    *,
    hours_ago: float = 1,
    status: str = RegistrationStatus.NEEDS_REVIEW,
    risk: int = 40,
    signals: tuple[tuple[str, int], ...] = (),
    **user_fields,
) -> Registration:
    """A submitted registration whose 48-hour clock started `hours_ago` hours ago."""
    submitted_at = timezone.now() - timedelta(hours=hours_ago)
    registration = RegistrationFactory(
        status=status,
        submitted_at=submitted_at,
        started_at=submitted_at - timedelta(minutes=5),
        risk_score=risk,
        **{f"user__{name}": value for name, value in user_fields.items()},
    )
    for code, weight in signals:
        RegistrationSignal.objects.create(registration=registration, code=code, weight=weight)
    clock_start(metric=METRIC, target=registration, at=submitted_at)
    return registration


def flashed(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def queue_ids(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


def status_of(registration: Registration) -> str:
    registration.refresh_from_db()
    return registration.status


# --- Permissions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/dashboard/", "/dashboard/tiles/", "/dashboard/registrations/", "/dashboard/block-rules/", "/register/status/"],
)
def test_anonymous_visitors_are_sent_to_the_sign_in_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_visitors_cannot_open_a_registration_or_decide(client):
    registration = pending()
    for url in (f"/dashboard/registrations/{registration.pk}/", f"/dashboard/registrations/{registration.pk}/approve/"):
        response = client.post(url) if url.endswith("approve/") else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("user", 403),
        ("outsider", 200),
        ("agent", 200),
        ("moderator", 200),
        ("manager", 200),
        ("reviewer", 200),
        ("administrator", 200),
    ],
)
def test_dashboard_is_open_to_every_staff_role_and_closed_to_marketplace_users(as_, persona, expected):
    assert as_(persona).get("/dashboard/").status_code == expected
    assert as_(persona).get("/dashboard/tiles/").status_code == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("user", 403),
        ("outsider", 403),
        ("agent", 403),
        ("moderator", 403),
        ("manager", 403),
        ("reviewer", 200),
        ("administrator", 200),
    ],
)
def test_queue_and_detail_need_the_review_permission(as_, persona, expected):
    registration = pending()
    client = as_(persona)
    assert client.get("/dashboard/registrations/").status_code == expected
    # A manager reads a registration (the dashboard's lists link it) but does not work the queue.
    detail = client.get(f"/dashboard/registrations/{registration.pk}/").status_code
    assert detail == (200 if persona == "manager" else expected)


@pytest.mark.parametrize("persona", ["user", "outsider", "agent", "moderator", "manager"])
def test_personas_without_the_review_permission_cannot_decide(as_, persona):
    registration = pending()
    client = as_(persona)
    base = f"/dashboard/registrations/{registration.pk}"
    assert client.post(f"{base}/approve/", {}).status_code == 403
    assert client.post(f"{base}/reject/", {"reject-reason": "No"}).status_code == 403
    assert client.post(f"{base}/claim/").status_code == 403
    assert (
        client.post(
            "/dashboard/registrations/bulk/", {"ids": [registration.pk], "decision": "approve", "confirm": "1"}
        ).status_code
        == 403
    )
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("user", 403),
        ("outsider", 403),
        ("agent", 403),
        ("moderator", 403),
        ("manager", 403),
        ("reviewer", 200),
        ("administrator", 200),
    ],
)
def test_block_rules_need_the_block_rule_permission(as_, persona, expected):
    assert as_(persona).get("/dashboard/block-rules/").status_code == expected


def test_navigation_lists_only_the_areas_a_role_opens(as_):
    labels = lambda response: [entry["label"] for entry in response.context["nav_entries"]]  # noqa: E731
    assert labels(as_("reviewer").get("/dashboard/")) == ["Dashboard", "Registrations", "Block rules"]
    # Managers and administrators also see the other areas' entries their roles open (messages, support, …).
    manager = labels(as_("manager").get("/dashboard/"))
    assert manager[0] == "Dashboard" and {"Reports", "Improvement log"} <= set(manager)
    assert not {"Registrations", "Block rules", "Admin"} & set(manager)
    administrator = labels(as_("administrator").get("/dashboard/"))
    assert administrator[:3] == ["Dashboard", "Registrations", "Block rules"] and "Admin" in administrator
    active = [
        entry["label"]
        for entry in as_("reviewer").get("/dashboard/registrations/").context["nav_entries"]
        if entry["active"]
    ]
    assert active == ["Registrations"]


def test_sign_in_page_signs_a_reviewer_in_to_the_registration_queue(client, reviewer, password):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": reviewer.email, "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:queue")
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get("/dashboard/").status_code == 302


def test_sign_in_with_a_wrong_password_shows_an_error(client, reviewer):
    response = client.post(reverse("login"), {"username": reviewer.email, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_applicants_signing_in_land_on_their_registration(client, password):
    registration = pending()
    response = client.post(reverse("login"), {"username": registration.user.email, "password": password})
    assert response["Location"] == reverse("accounts:register-status")


# --- Dashboard ------------------------------------------------------------------------------------------------


def test_reviewers_see_live_registration_tiles_linking_to_their_items(as_):
    pending(hours_ago=1)
    pending(hours_ago=40)  # past the 75 % point: at risk
    pending(hours_ago=50)  # past 48 h: breached
    response = as_("reviewer").get("/dashboard/")
    promises = {tile["key"]: tile for tile in response.context["tiles"]}
    assert list(promises) == ["registration-approval"]
    tiles = {count["key"]: count for count in promises["registration-approval"]["counts"]}
    assert (tiles["open"]["value"], tiles["at_risk"]["value"], tiles["breached"]["value"]) == (3, 1, 1)
    assert tiles["breached"]["grade"] == "bad" and tiles["at_risk"]["grade"] == "warn"
    items = "/dashboard/promises/registration.approval/items/"
    assert tiles["breached"]["url"] == f"{items}?state=breached"
    assert tiles["at_risk"]["url"] == f"{items}?state=at_risk"
    assert b'data-refresh-url="/dashboard/tiles/"' in response.content
    # From the list, a reviewer goes on to the queue with the same filter.
    listed = as_("reviewer").get(tiles["breached"]["url"])
    assert listed.context["page"].paginator.count == 1
    assert listed.context["queue_url"] == "/dashboard/registrations/?breached=on"


@time_machine.travel("2026-02-12 12:00:00Z", tick=False)
def test_managers_see_compliance_tiles_coloured_against_the_target_linking_to_their_items(as_, reviewer):
    # Three deadlines already reached this week: two decided in time, one 2 h late.
    for hours_ago, decided_after in ((100, 10), (90, 20), (80, 50)):
        registration = pending(hours_ago=hours_ago)
        decided_at = registration.submitted_at + timedelta(hours=decided_after)
        Registration.objects.filter(pk=registration.pk).update(
            status=RegistrationStatus.APPROVED, decided_at=decided_at, decided_by=reviewer
        )
        clock_stop(metric=METRIC, target=registration, at=decided_at)
    response = as_("manager").get("/dashboard/")
    promise = next(tile for tile in response.context["tiles"] if tile["key"] == "registration-approval")
    week = next(p for p in promise["periods"] if p["key"] == "week")
    assert week["value"] == "66.7 %"
    assert week["note"] == "2 of 3"
    assert week["grade"] == "bad"
    items = "/dashboard/promises/registration.approval/items/"
    assert week["url"] == f"{items}?state=decided&period=week"
    assert [count["url"] for count in promise["counts"]] == [
        f"{items}?state=open",
        f"{items}?state=at_risk",
        f"{items}?state=breached",
    ]
    # The items behind 66.7 %: the late one among them, listed read-only (a manager does not work the queue).
    listed = as_("manager").get(week["url"])
    assert [row["state"] for row in listed.context["rows"]] == ["met", "met", "missed"]
    # Managers read each item (read-only) but are not sent to work the queue.
    assert listed.context["queue_url"] == "" and all(row["url"] for row in listed.context["rows"])
    assert b'href="/dashboard/registrations/"' not in response.content + listed.content


def test_compliance_grades_follow_the_green_and_amber_bands():
    from reports.tiles import compliance_grade

    assert [compliance_grade(p, 95) for p in (100, 95, 94.9, 90, 89.9, None)] == [
        "ok",
        "ok",
        "warn",
        "warn",
        "bad",
        "neutral",
    ]


def test_administrators_see_both_tile_sections(as_):
    response = as_("administrator").get("/dashboard/")
    promise = next(tile for tile in response.context["tiles"] if tile["key"] == "registration-approval")
    assert promise["counts"][0]["url"] == "/dashboard/promises/registration.approval/items/?state=open"


@pytest.mark.parametrize("persona", ["outsider"])
def test_staff_without_tiles_see_an_empty_state(as_, persona):
    response = as_(persona).get("/dashboard/")
    assert response.context["tiles"] == []
    assert b'data-testid="dashboard-empty"' in response.content


def test_tile_fragment_is_the_tile_block_alone(as_):
    pending()
    response = as_("reviewer").get("/dashboard/tiles/")
    assert b'data-testid="tile-registration-approval-open"' in response.content
    assert b"<html" not in response.content


# --- Queue ----------------------------------------------------------------------------------------------------


def test_queue_lists_pending_registrations_soonest_deadline_first(as_):
    newest = pending(hours_ago=1)
    oldest = pending(hours_ago=30)
    middle = pending(hours_ago=10)
    Registration.objects.filter(pk=pending().pk).update(status=RegistrationStatus.APPROVED)
    response = as_("reviewer").get("/dashboard/registrations/")
    assert queue_ids(response) == [oldest.pk, middle.pk, newest.pk]


def test_queue_marks_at_risk_and_breached_rows(as_):
    breached = pending(hours_ago=50)
    at_risk = pending(hours_ago=40)
    pending(hours_ago=1)
    content = as_("reviewer").get("/dashboard/registrations/").content.decode()
    assert f'class="is-breached" data-registration="{breached.pk}"' in content
    assert f'class="is-at-risk" data-registration="{at_risk.pk}"' in content
    assert "overdue" in content


def test_queue_shows_risk_with_its_top_reasons(as_):
    pending(risk=70, signals=((Code.DISPOSABLE_EMAIL, 40), (Code.IP_VELOCITY, 20), (Code.TOO_FAST, 10)))
    content = as_("reviewer").get("/dashboard/registrations/").content.decode()
    assert "Disposable e-mail domain<br>Many sign-ups from this IP<br>Form filled too fast" in content
    assert 'class="risk risk-high"' in content


def test_queue_filters_by_status_reason_risk_country_and_search(as_):
    disposable = pending(risk=60, signals=((Code.DISPOSABLE_EMAIL, 40),), country="NG", full_name="Ada Qwobiyelu")
    low = pending(risk=5, email="low.risk@example.com", full_name="Low Risk")
    asked = pending(status=RegistrationStatus.INFO_REQUESTED, risk=30)
    client = as_("reviewer")
    get = lambda **query: queue_ids(client.get("/dashboard/registrations/", query))  # noqa: E731
    assert get(reason=Code.DISPOSABLE_EMAIL) == [disposable.pk]
    assert set(get(risk_min=20, risk_max=50)) == {asked.pk}
    assert get(country="ng") == [disposable.pk]
    assert get(q="low.risk@") == [low.pk]
    assert get(q="qwobiy") == [disposable.pk]
    assert get(status=RegistrationStatus.INFO_REQUESTED) == [asked.pk]


def test_queue_filters_at_risk_and_breached_items(as_):
    breached = pending(hours_ago=50)
    at_risk = pending(hours_ago=40)
    pending(hours_ago=1)
    client = as_("reviewer")
    assert queue_ids(client.get("/dashboard/registrations/", {"breached": "on"})) == [breached.pk]
    assert queue_ids(client.get("/dashboard/registrations/", {"at_risk": "on"})) == [at_risk.pk]


def test_queue_ignores_malformed_filters_instead_of_failing(as_):
    pending()
    response = as_("reviewer").get("/dashboard/registrations/", {"risk_min": "lots", "status": "nope", "page": "x"})
    assert response.status_code == 200
    assert len(queue_ids(response)) == 1


def test_queue_pages_fifty_rows_at_a_time_by_position_both_ways(as_):
    rows = [pending(hours_ago=index / 10) for index in range(101)]
    expected = [registration.pk for registration in reversed(rows)]  # the oldest submission is due first
    client = as_("reviewer")
    first = client.get("/dashboard/registrations/")
    assert queue_ids(first) == expected[:50] and not first.context["page"].has_previous
    second = client.get("/dashboard/registrations/" + first.context["page"].next_url)
    assert queue_ids(second) == expected[50:100]
    assert "Showing 51–100 of 101" in second.content.decode()
    third = client.get("/dashboard/registrations/" + second.context["page"].next_url)
    assert queue_ids(third) == expected[100:] and not third.context["page"].has_next
    back = client.get("/dashboard/registrations/" + third.context["page"].previous_url)
    assert queue_ids(back) == expected[50:100]
    assert queue_ids(client.get("/dashboard/registrations/" + back.context["page"].previous_url)) == expected[:50]


def test_a_registration_arriving_while_a_reviewer_pages_does_not_repeat_or_hide_rows(as_):
    rows = [pending(hours_ago=10 + index / 10) for index in range(60)]
    expected = [registration.pk for registration in reversed(rows)]
    client = as_("reviewer")
    first = client.get("/dashboard/registrations/")
    # Due before everything on the next page, and ahead of the first: it shows on the first page, not the second.
    pending(hours_ago=20)
    second = client.get("/dashboard/registrations/" + first.context["page"].next_url)
    assert queue_ids(second) == expected[50:]


def test_queue_pages_keep_the_filters(as_):
    for index in range(55):
        pending(hours_ago=index / 10, country="KE" if index % 2 else "NG")
    client = as_("reviewer")
    first = client.get("/dashboard/registrations/", {"country": "ke", "risk_min": 10})
    assert not first.context["page"].has_next
    first = client.get("/dashboard/registrations/", {"risk_min": 10})
    link = first.context["page"].next_url
    assert "risk_min=10" in link and f'href="{link.replace("&", "&amp;")}"' in first.content.decode()
    second = client.get("/dashboard/registrations/" + link)
    assert len(queue_ids(second)) == 5 and second.context["form"].cleaned_data["risk_min"] == 10


def test_a_broken_queue_page_link_shows_the_first_page_with_a_notice(as_):
    pending()
    client = as_("reviewer")
    for position in ({"after": "garbled"}, {"before": "x" * 40}, {"page": "x"}):
        response = client.get("/dashboard/registrations/", position)
        assert response.status_code == 200 and len(queue_ids(response)) == 1
    notice = client.get("/dashboard/registrations/", {"after": "garbled"}).content.decode()
    assert "That page link no longer fits this list; showing the first page." in notice


@pytest.mark.parametrize("rows", [5, 50])
def test_queue_query_count_does_not_grow_with_the_rows(as_, django_assert_max_num_queries, rows):
    for index in range(rows):
        registration = pending(hours_ago=index % 49, signals=((Code.TOO_FAST, 10), (Code.IP_VELOCITY, 20)))
        if index % 3 == 0:
            Registration.objects.filter(pk=registration.pk).update(claimed_by=UserFactory())
    client = as_("reviewer")
    with django_assert_max_num_queries(8):
        response = client.get("/dashboard/registrations/")
    assert len(queue_ids(response)) == rows


# --- Decisions from the detail page ----------------------------------------------------------------------------


def test_detail_shows_evidence_signals_clock_and_history(as_):
    registration = pending(hours_ago=2, signals=((Code.DUPLICATE_PHONE, 30),))
    sibling = RegistrationFactory(ip_address=registration.ip_address, subnet=registration.subnet)
    response = as_("reviewer").get(f"/dashboard/registrations/{registration.pk}/")
    content = response.content.decode()
    assert "Phone already registered" in content and "duplicate_phone" not in content  # words, not the code
    assert response.context["clock"].state == ClockState.RUNNING
    assert sibling in response.context["history"]["related"]
    assert "1\xa0day, 21\xa0hours left" in content  # the countdown to the deadline


def test_reviewer_approves_from_the_detail_page(as_, reviewer):
    registration = pending()
    response = as_("reviewer").post(
        f"/dashboard/registrations/{registration.pk}/approve/", {"approve-reason": "ID matches"}, follow=True
    )
    assert status_of(registration) == RegistrationStatus.APPROVED
    assert registration.decided_by == reviewer and registration.decision_reason == "ID matches"
    assert "approved" in flashed(response)[0]


def test_reviewer_rejects_with_a_reason(as_):
    registration = pending()
    as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/reject/", {"reject-reason": "Fake identity"})
    assert status_of(registration) == RegistrationStatus.REJECTED
    assert registration.decision_reason == "Fake identity"


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejecting_without_a_reason_is_a_form_error(as_, reason):
    registration = pending()
    response = as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/reject/", {"reject-reason": reason})
    assert response.status_code == 200
    assert response.context["reject_form"].errors["reason"] == ["Give the reason for the rejection."]
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


def test_a_breached_registration_needs_a_delay_cause(as_):
    registration = pending(hours_ago=50)
    client = as_("reviewer")
    page = client.get(f"/dashboard/registrations/{registration.pk}/")
    assert "delay_cause" in page.context["approve_form"].fields and page.context["approve_form"].breached
    response = client.post(f"/dashboard/registrations/{registration.pk}/approve/", {"approve-reason": ""})
    assert response.status_code == 200 and "delay_cause" in response.context["approve_form"].errors
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW
    client.post(
        f"/dashboard/registrations/{registration.pk}/approve/",
        {"approve-delay_cause": DelayCause.REVIEW_BACKLOG},
    )
    assert status_of(registration) == RegistrationStatus.APPROVED
    assert registration.delay_cause == DelayCause.REVIEW_BACKLOG


def test_other_as_the_delay_cause_needs_a_note(as_):
    registration = pending(hours_ago=50)
    response = as_("reviewer").post(
        f"/dashboard/registrations/{registration.pk}/reject/",
        {"reject-reason": "Duplicate", "reject-delay_cause": DelayCause.OTHER},
    )
    assert "delay_note" in response.context["reject_form"].errors
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


def test_a_deadline_passing_while_the_page_is_open_asks_for_the_cause_instead_of_failing(as_):
    registration = pending(hours_ago=47)
    Clock.objects.filter(target_id=registration.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    response = as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/approve/", {})
    assert response.status_code == 200
    assert response.context["approve_form"].errors["delay_cause"]
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


def test_the_second_of_two_reviewers_is_told_who_decided_first(as_, administrator):
    registration = pending()
    as_("administrator").post(f"/dashboard/registrations/{registration.pk}/approve/", {})
    response = as_("reviewer").post(
        f"/dashboard/registrations/{registration.pk}/reject/", {"reject-reason": "Spam"}, follow=True
    )
    assert response.status_code == 200
    assert any(
        message.startswith(f"This registration was already approved by {administrator.email} at ")
        for message in flashed(response)
    )
    assert status_of(registration) == RegistrationStatus.APPROVED


def test_requesting_information_pauses_the_clock(as_):
    registration = pending()
    client = as_("reviewer")
    response = client.post(f"/dashboard/registrations/{registration.pk}/request-info/", {"info-message": ""})
    assert response.context["info_form"].errors["message"]
    client.post(f"/dashboard/registrations/{registration.pk}/request-info/", {"info-message": "Upload your ID."})
    assert status_of(registration) == RegistrationStatus.INFO_REQUESTED
    assert Clock.objects.get(target_id=registration.pk).state == ClockState.PAUSED
    page = client.get(f"/dashboard/registrations/{registration.pk}/")
    assert b"Paused" in page.content and b"Upload your ID." in page.content


def test_reviewers_claim_and_release_registrations(as_, reviewer):
    registration = pending()
    client = as_("reviewer")
    client.post(f"/dashboard/registrations/{registration.pk}/claim/")
    registration.refresh_from_db()
    assert registration.claimed_by == reviewer
    response = as_("administrator").post(f"/dashboard/registrations/{registration.pk}/claim/", follow=True)
    assert f"Already claimed by {reviewer.email}." in flashed(response)
    as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/claim/", {"release": "1"})
    registration.refresh_from_db()
    assert registration.claimed_by is None


def test_claiming_from_the_queue_returns_to_the_same_queue_view(as_):
    registration = pending()
    response = as_("reviewer").post(
        f"/dashboard/registrations/{registration.pk}/claim/", {"next": "/dashboard/registrations/?country=ZA"}
    )
    assert response["Location"] == "/dashboard/registrations/?country=ZA"
    response = as_("reviewer").post(
        f"/dashboard/registrations/{registration.pk}/claim/", {"next": "https://elsewhere.example/"}
    )
    assert response["Location"] == f"/dashboard/registrations/{registration.pk}/"


def test_id_document_is_served_to_reviewers_only(as_, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    registration = pending()
    registration.id_document = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    registration.save(update_fields=["id_document"])
    url = f"/dashboard/registrations/{registration.pk}/id-document/"
    assert as_("manager").get(url).status_code == 403
    response = as_("reviewer").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert response["Cache-Control"] == "private, no-store"


def with_document(registration: Registration) -> Registration:
    registration.id_document = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    registration.save(update_fields=["id_document"])
    return registration


def test_reviewer_records_the_id_check_from_the_detail_page(as_, reviewer, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    registration = with_document(pending())
    url = f"/dashboard/registrations/{registration.pk}/"
    client = as_("reviewer")
    before = client.get(url).content.decode()
    assert 'data-testid="verify-id"' in before and f'action="{url}verify-id/"' in before

    response = client.post(f"{url}verify-id/", follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert flashed(response) == ["The ID document is recorded as checked."]
    registration.user.refresh_from_db()
    assert registration.user.id_verified_at is not None
    content = response.content.decode()
    assert 'data-testid="verify-id"' not in content and "verified " in content
    assert "checked the ID document" in content  # the history lists the check with its reviewer


def test_the_id_check_button_needs_an_uploaded_document(as_):
    registration = pending()
    client = as_("administrator")
    assert 'data-testid="verify-id"' not in client.get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    response = client.post(f"/dashboard/registrations/{registration.pk}/verify-id/", follow=True)
    assert flashed(response) == ["The applicant has not uploaded an ID document."]


@pytest.mark.parametrize("persona", ["user", "agent", "moderator", "manager"])
def test_only_reviewers_and_administrators_record_an_id_check(as_, persona, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    registration = with_document(pending())
    assert as_(persona).post(f"/dashboard/registrations/{registration.pk}/verify-id/").status_code == 403
    registration.user.refresh_from_db()
    assert registration.user.id_verified_at is None


def test_unknown_registration_is_a_404(as_):
    assert as_("reviewer").get("/dashboard/registrations/999999/").status_code == 404
    assert as_("reviewer").post("/dashboard/registrations/999999/approve/", {}).status_code == 404


# --- Bulk decisions -------------------------------------------------------------------------------------------


def test_bulk_approve_asks_for_confirmation_first(as_):
    first, second = pending(), pending()
    client = as_("reviewer")
    response = client.post("/dashboard/registrations/bulk/", {"ids": [first.pk, second.pk], "decision": "approve"})
    assert response.status_code == 200 and b"Approve 2 registrations?" in response.content
    assert status_of(first) == status_of(second) == RegistrationStatus.NEEDS_REVIEW
    response = client.post(
        "/dashboard/registrations/bulk/",
        {"ids": [first.pk, second.pk], "decision": "approve", "confirm": "1", "next": "/dashboard/registrations/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/dashboard/registrations/"
    assert status_of(first) == status_of(second) == RegistrationStatus.APPROVED
    assert "Approved 2 registrations." in flashed(response)


def test_bulk_reject_needs_a_reason(as_):
    registration = pending()
    response = as_("reviewer").post(
        "/dashboard/registrations/bulk/", {"ids": [registration.pk], "decision": "reject", "confirm": "1"}
    )
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW


def test_bulk_asks_for_a_delay_cause_when_a_selected_row_is_breached(as_):
    on_time, late = pending(hours_ago=1), pending(hours_ago=50)
    client = as_("reviewer")
    data = {"ids": [on_time.pk, late.pk], "decision": "reject", "reason": "Spam wave"}
    confirm = client.post("/dashboard/registrations/bulk/", data)
    assert confirm.context["breached"] and b"Cause of the delay" in confirm.content
    response = client.post("/dashboard/registrations/bulk/", {**data, "confirm": "1"})
    assert response.context["form"].errors["delay_cause"]
    assert status_of(late) == status_of(on_time) == RegistrationStatus.NEEDS_REVIEW
    client.post("/dashboard/registrations/bulk/", {**data, "confirm": "1", "delay_cause": DelayCause.REVIEW_BACKLOG})
    assert status_of(late) == status_of(on_time) == RegistrationStatus.REJECTED
    assert late.delay_cause == DelayCause.REVIEW_BACKLOG and on_time.delay_cause == ""


def test_bulk_without_a_selection_returns_to_the_queue_with_a_message(as_):
    response = as_("reviewer").post("/dashboard/registrations/bulk/", {"decision": "approve"}, follow=True)
    assert "Select at least one registration." in flashed(response)


def test_bulk_skips_registrations_someone_else_decided_and_says_so(as_, administrator):
    first, second = pending(), pending()
    client = as_("reviewer")
    client.post("/dashboard/registrations/bulk/", {"ids": [first.pk, second.pk], "decision": "approve"})
    as_("administrator").post(f"/dashboard/registrations/{second.pk}/reject/", {"reject-reason": "Fraud"})
    response = as_("reviewer").post(
        "/dashboard/registrations/bulk/",
        {"ids": [first.pk, second.pk], "decision": "approve", "confirm": "1"},
        follow=True,
    )
    assert status_of(first) == RegistrationStatus.APPROVED and status_of(second) == RegistrationStatus.REJECTED
    assert "Approved 1 registration." in flashed(response)


# --- Block rules ---------------------------------------------------------------------------------------------


def test_block_rule_is_created_previewed_and_applied_after_confirmation(as_):
    spam = pending(email="one@spam.example")
    other = pending(email="fine@example.com")
    client = as_("reviewer")
    response = client.post(
        "/dashboard/block-rules/", {"kind": BlockRule.Kind.EMAIL_DOMAIN, "value": "@Spam.example", "reason": "Spam"}
    )
    rule = BlockRule.objects.get()
    assert rule.value == "spam.example"
    assert response["Location"] == f"/dashboard/block-rules/{rule.pk}/"
    preview = client.get(f"/dashboard/block-rules/{rule.pk}/")
    assert preview.context["match_count"] == 1 and preview.context["matches"] == [spam]
    confirm = client.get(f"/dashboard/block-rules/{rule.pk}/", {"confirm": "1"})
    assert b"Reject 1 pending registration?" in confirm.content
    assert status_of(spam) == RegistrationStatus.NEEDS_REVIEW
    client.post(f"/dashboard/block-rules/{rule.pk}/")
    assert status_of(spam) == RegistrationStatus.REJECTED
    assert status_of(other) == RegistrationStatus.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "ip_range", "value": "300.1.1.0/24", "reason": "Bots"}, "value"),
        ({"kind": "email_domain", "value": "not a domain", "reason": "Spam"}, "value"),
        ({"kind": "keyword", "value": "casino", "reason": ""}, "reason"),
        ({"kind": "keyword", "value": "casino", "reason": "Spam", "expires_at": "2001-01-01T00:00"}, "expires_at"),
    ],
)
def test_invalid_block_rules_are_form_errors(as_, data, field):
    response = as_("reviewer").post("/dashboard/block-rules/", data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not BlockRule.objects.exists()


def test_block_rule_list_shows_every_rule(as_, reviewer, django_assert_max_num_queries):
    for index in range(5):
        BlockRule.objects.create(kind="keyword", value=f"word{index}", reason="Spam", created_by=reviewer)
    client = as_("reviewer")
    with django_assert_max_num_queries(6):
        response = client.get("/dashboard/block-rules/")
    assert response.content.count(b"/dashboard/block-rules/") >= 5
