"""A manager subscribes to report e-mails in a real browser, and the public transparency page shows the monthly
support and moderation figures; both pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reports.models import ReportSubscription
from tests.e2e.test_accessibility_walk import problems_on
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_subscribes_and_the_public_reads_monthly_figures(page, live_server, manager, screenshot):
    base = live_server.url
    page.goto(f"{base}/dashboard/reports/subscriptions/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard/reports/subscriptions/")
    page.get_by_label("Monthly").check()
    page.get_by_label("Quarterly").check()
    page.get_by_test_id("save-subscriptions").click()
    expect(page.get_by_label("Monthly")).to_be_checked()
    assert set(ReportSubscription.objects.filter(user=manager).values_list("kind", flat=True)) == {
        "monthly",
        "quarterly",
    }
    screenshot(page, "report-subscriptions")
    assert problems_on(page)[0] == []

    page.goto(f"{base}/help/transparency/")
    table = page.get_by_test_id("monthly-figures")
    expect(table).to_contain_text("Support and moderation, month by month")
    expect(table.locator("tbody tr").first).to_be_visible()
    screenshot(page, "transparency-monthly")
    assert problems_on(page)[0] == []
