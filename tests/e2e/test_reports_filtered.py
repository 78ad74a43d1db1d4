"""A manager narrows a report to one inquiry type and region in a real browser: the reports page takes the filters,
the run and its preview say which applied, and the figures that cannot be split that way say so."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from saypro import periods
from tests.e2e.test_accessibility_walk import problems_on
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_generates_a_report_for_one_inquiry_type_and_region(page, live_server, manager, screenshot):
    month = periods.last_complete(periods.MONTH)
    base = live_server.url
    page.goto(f"{base}/dashboard/reports/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard/reports/")

    page.get_by_label("Kind").select_option("monthly")
    page.get_by_label("Any day of the period").fill(month.start.isoformat())
    page.get_by_label("Inquiry type").select_option("complaint")
    # The field holds at most what the service accepts (the test client checks the refusal of longer ones).
    expect(page.get_by_label("Region")).to_have_attribute("maxlength", "100")
    page.get_by_label("Region").fill("Gauteng")
    assert problems_on(page) == ([], [])
    screenshot(page, "reports-filter-form")
    page.get_by_test_id("generate").click()
    expect(page).to_have_url(re.compile(r"/dashboard/reports/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inquiry type: complaint · Region: Gauteng")
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "done", timeout=60_000)
    with page.expect_download() as info:
        page.get_by_test_id("download-pdf").click()
    assert info.value.suggested_filename == f"saypro-monthly-{month.slug}-category-complaint-region-gauteng.pdf"

    page.get_by_role("link", name="Preview in the browser").click()
    expect(page.get_by_test_id("filters")).to_contain_text("Filtered: Inquiry type: complaint · Region: Gauteng")
    # Messaging's figures split by both; the registration headline by neither, and it says so.
    volume = page.locator('[data-figure="messaging.volume"]')
    expect(volume.get_by_test_id("sample")).not_to_contain_text("not split")
    headline = page.locator('[data-figure="registrations.approved_48h"]')
    expect(headline.get_by_test_id("sample")).to_contain_text("all, not split by inquiry type, region")
    # Sign-ups are split by the applicant's region, not by inquiry type.
    started = page.locator('[data-figure="registrations.started"]')
    expect(started.get_by_test_id("sample")).to_contain_text("not split by inquiry type")
    expect(started.get_by_test_id("sample")).not_to_contain_text("region")
    failed = page.locator('[data-figure="account_issues.failed_sign_ins"]')
    expect(failed.get_by_test_id("sample")).to_contain_text("all, not split by inquiry type")
    assert problems_on(page) == ([], [])
    # The title page only: the whole preview is some 25,000 pixels tall.
    screenshot(page, "reports-filtered-preview", full_page=False)
    started.scroll_into_view_if_needed()
    screenshot(page, "reports-filtered-registrations", full_page=False)

    page.get_by_role("link", name="Reports", exact=True).first.click()
    expect(page.get_by_test_id("run-filters")).to_have_text("Inquiry type: complaint · Region: Gauteng")
    screenshot(page, "reports-filtered-list")
