"""A manager on duty sees the short-staffing banner on the dashboard and reads the queue's forecast on the staffing
page: the chart, the hours, the shifts; the page passes axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from accounts import roles
from accounts.models import AgentProfile
from reports import services
from tests.factories import PASSWORD, UserFactory
from tests.reports.test_staffing import clocks, decisions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_sees_the_banner_and_the_forecast_behind_it(page, live_server, manager, screenshot):
    now = timezone.now()
    reviewer = UserFactory(email="thandi@saypro.example", full_name="Thandi Mokoena", roles=[roles.REVIEWER])
    AgentProfile.objects.create(user=reviewer, languages=["en", "zu"], regions=["Gauteng"])
    decisions(reviewer, now - timedelta(days=2), now - timedelta(days=2, minutes=-10), now - timedelta(days=1))
    for weeks in range(1, 5):
        clocks(3, now + timedelta(hours=2) - timedelta(weeks=weeks))
    clocks(30, now - timedelta(hours=40), due_at=now + timedelta(hours=5))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.staffing_alerts_raise(now=now)

    base = live_server.url
    page.goto(f"{base}/dashboard/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    banner = page.get_by_test_id("staffing-alert")
    expect(banner).to_contain_text("Registrations decided within 48 h of review time: short-staffed.")
    screenshot(page, "staffing-banner")
    banner.get_by_role("link", name="See staffing").click()
    expect(page.get_by_role("heading", name="Staffing", exact=True)).to_be_visible()
    queue = page.get_by_test_id("staffing-registration-approval")
    expect(queue.get_by_test_id("staffing-registration-approval-verdict")).to_contain_text(
        "Breach before the next shift"
    )
    expect(queue.locator("svg")).to_be_visible()
    expect(queue.get_by_test_id("staffing-registration-approval-people")).to_contain_text("Thandi Mokoena")
    screenshot(page, "staffing-page")
    queue.get_by_text("Hour by hour").click()
    expect(queue.get_by_test_id("staffing-registration-approval-hours")).to_be_visible()
    violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == []
