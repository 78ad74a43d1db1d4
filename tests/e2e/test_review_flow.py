"""A reviewer's day in a real browser: sign in, work the queue by deadline, decide, watch the tiles move."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from accounts import services
from accounts.models import BlockRule, Registration, RegistrationSignal, RegistrationStatus, SignUpStart
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

Code = RegistrationSignal.Code


def nav(page, label: str):
    return page.get_by_role("navigation", name="Staff areas").get_by_role("link", name=label)


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/$"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/dashboard/")


def test_reviewer_works_the_queue_and_sees_the_tiles_change(
    page, context, live_server, reviewer, submitted_registration, screenshot, monkeypatch
):
    # The dashboard's own refresh, made quick so the test can watch a tile change without a reload.
    monkeypatch.setattr("saypro.shared.REFRESH_SECONDS", 1)
    soon = submitted_registration(
        hours_ago=40,
        email="thabo@example.com",
        full_name="Thabo Dlamini",
        signals=((Code.IP_VELOCITY, 20), (Code.TOO_FAST, 15)),
    )
    later = submitted_registration(
        hours_ago=10,
        email="spam@mailinator.com",
        full_name="Quick Cash",
        risk=60,
        signals=((Code.DISPOSABLE_EMAIL, 40), (Code.HONEYPOT, 20)),
    )
    latest = submitted_registration(hours_ago=1, email="naledi@example.com", full_name="Naledi Khumalo", risk=10)
    base = live_server.url

    sign_in(page, base, reviewer.email)
    expect(page.get_by_test_id("signed-in-user")).to_have_text(reviewer.full_name)
    expect(page.get_by_test_id("tile-registration-approval-open")).to_have_text("3")
    expect(page.get_by_test_id("tile-registration-approval-at_risk")).to_have_text("1")
    # The tiles are shared for one refresh interval and say since when.
    expect(page.get_by_test_id("tiles-as-of")).to_have_text(re.compile(r"^As of \d\d:\d\d:\d\d$"))
    screenshot(page, "dashboard")

    # A second tab keeps the dashboard open: its tiles refresh in place while the reviewer decides.
    watcher = context.new_page()
    watcher.goto(f"{base}/dashboard/")
    expect(watcher.get_by_test_id("tile-registration-approval-open")).to_have_text("3")

    nav(page, "Registrations").click()
    expect(page).to_have_url(f"{base}/dashboard/registrations/")
    rows = page.locator("[data-testid=queue] tbody tr")
    expect(rows).to_have_count(3)
    order = [int(value) for value in rows.evaluate_all("rows => rows.map(r => r.dataset.registration)")]
    assert order == [soon.pk, later.pk, latest.pk]
    expect(rows.first).to_have_class(re.compile("is-at-risk"))
    expect(rows.first.locator(".deadline")).to_contain_text("left")
    screenshot(page, "queue")

    rows.first.get_by_role("link", name="Thabo Dlamini").click()
    expect(page.get_by_test_id("status")).to_have_text("Needs review")
    screenshot(page, "registration-detail")
    page.get_by_label("Note").fill("ID and phone match.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"Registration #{soon.pk} approved.")
    # On to the next registration by deadline, with the approval offered for undoing.
    expect(page).to_have_url(f"{base}/dashboard/registrations/{later.pk}/?undo={soon.pk}")
    expect(page.get_by_test_id("undo")).to_contain_text(f"You approved registration #{soon.pk}")

    page.goto(f"{base}/dashboard/registrations/{later.pk}/")
    page.locator("summary", has_text="Reject").click()
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("Give the reason for the rejection.")
    screenshot(page, "registration-detail-error")
    page.get_by_label("Reason").fill("Disposable address and a filled hidden field.")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.get_by_test_id("undo")).to_contain_text(f"You rejected registration #{later.pk}")

    expect(watcher.get_by_test_id("tile-registration-approval-open")).to_have_text("1", timeout=10_000)
    expect(watcher.get_by_test_id("tile-registration-approval-at_risk")).to_have_text("0")
    nav(page, "Dashboard").click()
    expect(page.get_by_test_id("tile-registration-approval-open")).to_have_text("1")

    assert Registration.objects.get(pk=soon.pk).status == RegistrationStatus.APPROVED
    rejected = Registration.objects.get(pk=later.pk)
    assert rejected.status == RegistrationStatus.REJECTED and rejected.decided_by_id == reviewer.pk


def test_bulk_decision_with_a_breached_row_asks_for_the_delay_cause(
    page, live_server, reviewer, submitted_registration, screenshot
):
    late = submitted_registration(hours_ago=52, email="late@example.com", full_name="Late Applicant")
    fresh = submitted_registration(hours_ago=2, email="fresh@example.com", full_name="Fresh Applicant")
    base = live_server.url
    sign_in(page, base, reviewer.email)
    page.goto(f"{base}/dashboard/registrations/")
    expect(page.locator("tr.is-breached .deadline")).to_contain_text("overdue")
    approve = page.get_by_role("button", name="Approve selected…")
    expect(approve).to_be_disabled()
    page.get_by_label("Select all on this page").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    approve.click()
    expect(page.get_by_role("heading", name="Approve 2 registrations?")).to_be_visible()
    screenshot(page, "queue-bulk-confirm")
    page.get_by_test_id("confirm-bulk").click()
    expect(page.locator(".errorlist")).to_contain_text("Past the deadline: choose the cause of the delay.")
    page.get_by_label("Cause of the delay").select_option("review_backlog")
    page.get_by_test_id("confirm-bulk").click()
    expect(page.locator(".messages")).to_contain_text("Approved 2 registrations.")
    assert {r.status for r in Registration.objects.filter(pk__in=[late.pk, fresh.pk])} == {"approved"}


def test_block_rule_preview_and_apply(page, live_server, reviewer, submitted_registration, screenshot):
    submitted_registration(hours_ago=3, email="a@bots.example", full_name="Bot One")
    submitted_registration(hours_ago=4, email="b@bots.example", full_name="Bot Two")
    base = live_server.url
    sign_in(page, base, reviewer.email)
    nav(page, "Block rules").click()
    page.get_by_label("Kind").select_option("email_domain")
    page.get_by_label("Value").fill("bots.example")
    page.get_by_label("Reason").fill("Scripted sign-ups")
    screenshot(page, "block-rules")
    page.get_by_role("button", name="Create and preview matches").click()
    expect(page.get_by_role("heading", name="2 pending registrations match this rule")).to_be_visible()
    page.get_by_role("link", name="Apply to 2 matches…").click()
    screenshot(page, "block-rule-confirm")
    page.get_by_test_id("confirm-apply").click()
    expect(page.locator(".messages")).to_contain_text("Rejected 2 registrations")
    assert BlockRule.objects.count() == 1
    assert set(Registration.objects.values_list("status", flat=True)) == {"rejected"}
    nav(page, "Block rules").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    screenshot(page, "block-rules-list")


def test_administrator_sees_queue_and_compliance_tiles(
    page, live_server, administrator, reviewer, submitted_registration, screenshot
):
    for index, hours_ago in enumerate((70, 60, 55, 30, 3)):
        registration = submitted_registration(
            hours_ago=hours_ago, email=f"applicant{index}@example.com", full_name=f"Applicant {index}"
        )
        if hours_ago > 48:
            # Decided 20 h after submission: inside the 48 hours.
            with time_machine.travel(registration.submitted_at + timedelta(hours=20)):
                services.registration_approve(registration=registration, by=reviewer)
    sign_in(page, live_server.url, administrator.email)
    expect(page.get_by_test_id("promise-registration-approval")).to_be_visible()
    expect(page.get_by_test_id("tile-registration-approval-quarter")).to_have_text("100.0 %")
    expect(page.get_by_test_id("tile-registration-approval-open")).to_have_text("2")
    screenshot(page, "dashboard-administrator")


def test_applicant_signs_up_and_follows_the_registration(page, live_server, screenshot, settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    base = live_server.url
    page.goto(f"{base}/register/")
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    # The first keystroke counts the visitor as having started the form (the conversion rate's population).
    with page.expect_response(lambda response: "/register/start/" in response.url) as started:
        page.get_by_label("E-mail address").fill("zanele@example.com")
    assert started.value.status == 204
    page.get_by_label("Password").fill("a-long-and-unusual-passphrase")
    page.get_by_label("Full name").fill("Zanele Mthembu")
    page.get_by_label("Mobile number").fill("+27 82 555 0123")
    page.get_by_label("Country").select_option("ZA")
    page.get_by_label("Province or region").fill("KwaZulu-Natal")
    page.get_by_label("Age", exact=True).select_option("25-34")
    page.get_by_label("I have read the privacy notice").check()
    screenshot(page, "register")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/register/sent/")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    screenshot(page, "register-sent")
    page.get_by_role("link", name="sign in").click()
    page.get_by_label("E-mail address").fill("zanele@example.com")
    page.get_by_label("Password").fill("a-long-and-unusual-passphrase")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/register/status/")
    expect(page.get_by_role("heading", name="Your registration")).to_be_visible()
    expect(page.get_by_text("Send me a code")).to_be_visible()
    screenshot(page, "register-status")
    registration = Registration.objects.get(user__email="zanele@example.com")
    assert registration.submitted_at is not None and not registration.honeypot_filled
    # One start, completed by the posted form: the page's report and the form carried the same key.
    start = SignUpStart.objects.get()
    assert (start.channel, start.registration) == ("web", registration)

    page.goto(f"{base}/register/verify-email/not-a-token/")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    screenshot(page, "verify-email-invalid")
    page.goto(f"{base}/dashboard/")
    screenshot(page, "forbidden")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/accounts/login/")
    screenshot(page, "login")
