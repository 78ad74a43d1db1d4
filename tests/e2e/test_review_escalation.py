"""A reviewer who cannot decide reads the guidelines, escalates with a reason, and an administrator decides."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import Registration, RegistrationStatus
from tests.e2e.test_review_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def serious_violations(page) -> list[str]:
    violations = Axe().run(page).response["violations"]
    return [violation["id"] for violation in violations if violation["impact"] in ("serious", "critical")]


def test_reviewer_reads_the_guidelines_escalates_and_an_administrator_decides(
    page, live_server, reviewer, administrator, submitted_registration, screenshot
):
    registration = submitted_registration(hours_ago=30, email="lindiwe@example.com", full_name="Lindiwe Dube")
    sign_in(page, live_server.url, reviewer.email)
    page.goto(f"{live_server.url}/dashboard/registrations/{registration.pk}/")

    page.get_by_role("link", name="Review guidelines").click()
    expect(page.get_by_role("heading", name="When you cannot decide")).to_be_visible()
    assert serious_violations(page) == []
    screenshot(page, "review-guidelines")
    page.go_back()

    page.get_by_text("Escalate to the administrators").click()
    page.get_by_label("Why can you not decide it?").fill("unsure")
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.get_by_text("Write at least 10 characters")).to_be_visible()
    expect(page.get_by_label("Why can you not decide it?")).to_have_value("unsure")
    page.get_by_label("Why can you not decide it?").fill(
        "The ID photo does not match the selfie; possible impersonation."
    )
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.get_by_text("escalated: the administrators have been e-mailed")).to_be_visible()

    page.goto(f"{live_server.url}/dashboard/registrations/{registration.pk}/")
    expect(page.get_by_test_id("escalated")).to_contain_text("possible impersonation")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    assert serious_violations(page) == []
    screenshot(page, "review-escalated")

    page.context.clear_cookies()
    sign_in(page, live_server.url, administrator.email)
    page.goto(f"{live_server.url}/dashboard/registrations/{registration.pk}/")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"Registration #{registration.pk} approved.")
    registration = Registration.objects.get(pk=registration.pk)
    assert (registration.status, registration.decided_by_id) == (RegistrationStatus.APPROVED, administrator.pk)
