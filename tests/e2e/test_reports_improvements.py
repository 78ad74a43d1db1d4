"""An administrator keeps the improvement log in the browser; the period's report lists the entry."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reports.models import Improvement
from saypro import periods
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_administrator_logs_an_improvement_and_the_month_report_lists_it(page, live_server, administrator, screenshot):
    base = live_server.url
    month = periods.last_complete(periods.MONTH)
    page.goto(f"{base}/dashboard/improvements/")
    page.get_by_label("E-mail address").fill(administrator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Improvement log")).to_be_visible()
    page.get_by_label("Kind").select_option("feedback")
    page.get_by_label("Area", exact=True).select_option("accounts")
    page.get_by_label("Made on").fill(month.start.isoformat())
    page.get_by_label("Change").fill("Shorter sign-up form")
    page.get_by_label("Description").fill("Asked for by users in the registration survey.")
    page.get_by_role("button", name="Add to the log").click()
    expect(page.locator(".messages")).to_contain_text("Improvement logged.")
    expect(page.get_by_test_id("improvements")).to_contain_text("Shorter sign-up form")
    screenshot(page, "reports-improvements")
    assert Improvement.objects.get().created_by == administrator

    page.goto(f"{base}/dashboard/reports/")
    page.get_by_label("Kind").select_option("monthly")
    page.get_by_label("Any day of the period").fill(month.start.isoformat())
    page.get_by_test_id("generate").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "done", timeout=60_000)
    page.get_by_role("link", name="Preview in the browser").click()
    expect(page.get_by_test_id("section-improvements")).to_contain_text("Shorter sign-up form")
