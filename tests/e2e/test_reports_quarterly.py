"""A manager's quarter end in a real browser: the dashboard's four promises and the items behind a tile's
number, the quarterly report generated on demand with its progress, the PDF downloaded and read back."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from saypro import periods
from saypro.sla.promises import promises
from saypro.sla.services import clock_start, clock_stop
from tests.e2e.test_accessibility_walk import problems_on
from tests.factories import PASSWORD, RegistrationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Per promise, the hours each of four clocks took, due in the last quarter (None: still open, now breached).
OUTCOMES = {
    "registration.approval": (2, 20, 60, None),  # 2 of 4 within 48 h: 50.0 %
    "message.first_response": (1, 5, 10, 30),  # 3 of 4 within 24 h: 75.0 %
    "ticket.resolution": (3, 4, 6, 8),  # 4 of 4: 100.0 %
    "moderation.decision": (1, 13, 14, 20),  # 1 of 4 within 12 h: 25.0 %
}
EXPECTED = {
    "registration.approval": "50.0 %",
    "message.first_response": "75.0 %",
    "ticket.resolution": "100.0 %",
    "moderation.decision": "25.0 %",
}


@pytest.fixture
def last_quarter_clocks():
    quarter = periods.last_complete(periods.QUARTER)
    start = quarter.start_at + timedelta(days=20)
    for metric, hours in OUTCOMES.items():
        for index, taken in enumerate(hours):
            target = RegistrationFactory(user__email=f"{metric}-{index}@example.com")
            at = start + timedelta(days=7 * index)
            clock_start(metric=metric, target=target, at=at)
            if taken is not None:
                clock_stop(metric=metric, target=target, at=at + timedelta(hours=taken))
    return quarter


def test_manager_generates_the_quarterly_report_and_reads_the_pdf(
    page, live_server, manager, last_quarter_clocks, submitted_registration, screenshot
):
    assert {p.metric for p in promises()} == set(OUTCOMES)
    # This quarter's queue: one registration past the 75 % point, two in good time.
    for hours_ago, name in ((40, "Thandi Mokoena"), (6, "Kwame Mensah"), (1, "Ana Silva")):
        submitted_registration(hours_ago=hours_ago, email=f"{name.split()[0].lower()}@example.com", full_name=name)
    base = live_server.url
    page.goto(f"{base}/dashboard/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard/")
    for metric in OUTCOMES:
        expect(page.get_by_test_id(f"promise-{metric.replace('.', '-')}")).to_be_visible()
    # Every registration clock of the fixture is past its deadline: one is still open, so it counts as breached.
    expect(page.get_by_test_id("tile-registration-approval-breached")).to_have_text("1")
    expect(page.get_by_test_id("tile-registration-approval-open")).to_have_text("4")
    screenshot(page, "reports-dashboard")

    # The breached number opens the list of the items behind it; a manager reads each one (read-only).
    page.get_by_test_id("tile-registration-approval-breached").click()
    expect(page).to_have_url(f"{base}/dashboard/promises/registration.approval/items/?state=breached")
    rows = page.locator("[data-testid=items] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-state", "breached")
    expect(rows.first.locator(".deadline")).to_contain_text("overdue")
    expect(rows.first.locator("a")).to_have_attribute("href", re.compile(r"^/dashboard/registrations/\d+/$"))
    expect(rows.first.get_by_test_id("item-status")).not_to_be_empty()
    expect(page.get_by_test_id("items-tab-breached")).to_contain_text("1")
    screenshot(page, "reports-items-breached")
    page.get_by_test_id("items-tab-open").click()
    expect(rows).to_have_count(4)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.state)") == ["breached", "at_risk", "open", "open"]
    screenshot(page, "reports-items-open")
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(f"{base}/dashboard/")

    page.get_by_role("link", name="Reports", exact=True).first.click()
    expect(page).to_have_url(f"{base}/dashboard/reports/")
    page.get_by_label("Kind").select_option("quarterly")
    page.get_by_label("Any day of the period").fill(last_quarter_clocks.start.isoformat())
    screenshot(page, "reports-list")
    page.get_by_test_id("generate").click()
    expect(page).to_have_url(re.compile(r"/dashboard/reports/\d+/$"))
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "done", timeout=60_000)
    screenshot(page, "reports-run")

    with page.expect_download() as info:
        page.get_by_test_id("download-pdf").click()
    download = info.value
    assert download.suggested_filename == f"saypro-quarterly-{last_quarter_clocks.slug}.pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(download.path().read_bytes())).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Executive summary" in text and "Where this comes from" in text
    for promise in promises():
        assert EXPECTED[promise.metric] in text, promise.title

    page.get_by_role("link", name="Preview in the browser").click()
    summary = page.get_by_test_id("section-summary")
    expect(summary).to_contain_text("targets met and")
    expect(summary.locator("svg.sparkline")).to_have_count(4)
    for metric, value in EXPECTED.items():
        figure = page.get_by_test_id("section-compliance").locator(f'[data-figure="compliance.{metric}"] .value')
        expect(figure).to_have_text(value)
    # The preview's cards, sparklines and charts: no serious axe finding, no id used twice.
    assert problems_on(page) == ([], [])
    # The whole report is some 30,000 px tall, past what Chromium captures in one image: its first screen.
    screenshot(page, "reports-preview", full_page=False)
    page.goto(f"{base}/dashboard/areas/accounts/?period=quarter&day={last_quarter_clocks.start.isoformat()}")
    expect(page.get_by_test_id("period-label")).to_contain_text(last_quarter_clocks.label)
    screenshot(page, "reports-area-accounts")
