"""A moderator's work in a real browser: the queue by deadline, a case, a removal with a reason, and what follows:
the reporter learns the outcome and the dashboard tile of the 12-hour promise moves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from marketplace.models import Listing, ListingStatus
from moderation import services
from moderation.models import Case, Flag
from tests.factories import PASSWORD, ListingFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/dashboard/")


def flag(listing: Listing, reporter, *, hours_ago: float, reason: str, comment: str) -> Case:
    with time_machine.travel(timezone.now() - timedelta(hours=hours_ago)):
        services.flag_create(reporter=reporter, kind="listing", object_id=listing.pk, reason=reason, comment=comment)
    return Case.objects.get(object_id=listing.pk)


def test_moderator_removes_a_flagged_listing_and_the_reporter_and_the_tile_see_it(
    page, live_server, moderator, screenshot, monkeypatch
):
    # The tiles are shared for one refresh interval, and the dashboard swaps in the new ones at each: a short one
    # lets the test see the decision reach the tile.
    monkeypatch.setattr("saypro.shared.REFRESH_SECONDS", 1)
    reporter = UserFactory(email="naledi@example.com", full_name="Naledi Khumalo")
    scam = ListingFactory(
        title="iPhone 14 Pro Max, sealed, R2 500",
        description="Pay a deposit by e-wallet first and my courier brings it. WhatsApp 071 555 0199.",
        seller__full_name="Quick Deals",
    )
    urgent = flag(scam, reporter, hours_ago=10, reason="fraud", comment="Asks for a deposit before viewing.")
    sofa = ListingFactory(title="Three-seater couch", description="Grey fabric, no stains. Collect in Bellville.")
    flag(sofa, UserFactory(), hours_ago=1, reason="duplicate", comment="Posted twice.")
    base = live_server.url

    sign_in(page, base, moderator.email)
    tile_open = page.get_by_test_id("tile-moderation-decision-open")
    expect(tile_open).to_have_text("2")
    expect(page.get_by_test_id("tile-moderation-decision-at_risk")).to_have_text("1")
    screenshot(page, "moderation-dashboard-before")

    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Moderation", exact=True).click()
    expect(page).to_have_url(f"{base}/dashboard/moderation/")
    rows = page.locator("[data-testid=queue] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-case", str(urgent.pk))
    expect(rows.first).to_have_class(re.compile("is-at-risk"))
    expect(page.get_by_test_id("count-at-risk")).to_have_text("1")
    screenshot(page, "moderation-queue")

    rows.first.get_by_role("link", name=re.compile("iPhone 14 Pro Max")).click()
    expect(page.get_by_test_id("content")).to_contain_text("Pay a deposit by e-wallet first")
    expect(page.get_by_test_id("flags")).to_contain_text("Asks for a deposit before viewing.")
    expect(page.get_by_test_id("author")).to_contain_text("Unverified")
    page.get_by_role("radio", name="Remove", exact=True).check()
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".errorlist")).to_contain_text(
        ["Choose the rule that was broken.", "Give the reason; the user is told."]
    )
    screenshot(page, "moderation-case-errors")
    page.get_by_role("radio", name="Remove", exact=True).check()
    page.get_by_label("Rule broken").select_option("scam")
    page.get_by_label("Reason").fill("Asks for payment up front outside the platform.")
    screenshot(page, "moderation-case-decide")
    page.get_by_role("button", name="Decide").click()
    expect(page.locator(".messages")).to_contain_text(f"Case #{urgent.pk}: removed.")
    # Straight on to the next case in the queue.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Three-seater couch")

    scam.refresh_from_db()
    assert scam.status == ListingStatus.REMOVED
    flag_row = Flag.objects.get(case=urgent)
    assert flag_row.outcome == "upheld" and flag_row.notified_at is not None
    told = [m for m in mail.outbox if m.to == [reporter.email]]
    assert told and "the content was removed" in told[0].subject
    token = Token.objects.create(user=reporter)
    response = page.request.get(f"{base}/api/v1/flags/", headers={"Authorization": f"Token {token.key}"})
    assert response.json()["results"][0]["result"] == "removed"

    page.goto(f"{base}/dashboard/moderation/cases/{urgent.pk}/")
    expect(page.get_by_test_id("decision")).to_contain_text("Removed")
    expect(page.get_by_test_id("reporter-told")).to_be_visible()
    screenshot(page, "moderation-case-decided")

    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("tile-moderation-decision-open")).to_have_text("1")
    expect(page.get_by_test_id("tile-moderation-decision-at_risk")).to_have_text("0")
    screenshot(page, "moderation-dashboard-after")


def test_a_support_agent_cannot_open_a_case(page, live_server, agent, screenshot):
    listing = ListingFactory(title="Replica watches, AAA quality")
    case = flag(listing, UserFactory(), hours_ago=2, reason="prohibited", comment="Fakes")
    sign_in(page, live_server.url, agent.email)
    expect(
        page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Moderation", exact=True)
    ).to_have_count(0)
    response = page.goto(f"{live_server.url}/dashboard/moderation/cases/{case.pk}/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("button", name="Decide")).to_have_count(0)
    screenshot(page, "moderation-case-agent")
