"""A manager subscribes to report e-mails in a real browser, and the public transparency page shows the monthly
support and moderation figures; the report e-mail's HTML reads in Chromium and its signed link downloads the PDF;
all pass axe."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from reports import services
from reports.models import ReportSubscription
from saypro import periods
from tests.e2e.test_accessibility_walk import problems_on
from tests.factories import PASSWORD
from tests.reports.conftest import local, signup

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


def test_the_report_email_reads_in_chromium_and_its_link_downloads_the_pdf(
    page, live_server, manager, settings, screenshot, django_capture_on_commit_callbacks
):
    settings.SITE_URL = live_server.url
    settings.REPORTS_MAIL_ATTACH_MAX_BYTES = 1000  # this report's PDF is larger: the e-mail carries a link
    signup(local(2026, 2, 5, 10, 0), decided_after_hours=2)
    signup(local(2026, 2, 9, 10, 0), decided_after_hours=60)
    services.report_subscriptions_set(user=manager, kinds=["monthly"])
    month = periods.containing(periods.MONTH, date(2026, 2, 1))
    run = services.report_request(kind="monthly", period=month, by=None, scheduled=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    (message,) = mail.outbox
    (html, _mimetype) = message.alternatives[0]

    # A mail client shows the HTML as it is: nothing is fetched to draw it.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 760, "height": 900})
    page.set_content(html)
    expect(page.get_by_role("heading", name="Headline figures")).to_be_visible()
    expect(page.get_by_role("heading", name="Risks and what to do")).to_be_visible()
    assert requests == []
    screenshot(page, "report-email")
    assert problems_on(page)[0] == []

    # The link downloads the PDF without signing in.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="download the PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{run.file_stem}.pdf"
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == run.pdf_sha256

    # Once unsubscribed, the same link is refused with a page that says why.
    services.report_subscriptions_set(user=manager, kinds=[])
    link = page.get_by_role("link", name="download the PDF").get_attribute("href")
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("This link was withdrawn")
    screenshot(page, "report-link-refused")
    assert problems_on(page)[0] == []
