"""Every work queue fits a 1280-pixel screen without sideways scrolling, and on a phone each row still shows its
deadline on screen."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import TestCase
from playwright.sync_api import expect

from messaging import services as messaging
from moderation.models import Reason
from moderation.services import flag_create
from support import services as support
from tests.factories import PASSWORD, ListingFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

QUEUES = {
    "registrations": "/dashboard/registrations/",
    "messages": "/dashboard/messages/?view=all",
    "support": "/dashboard/support/?view=all",
    "moderation": "/dashboard/moderation/",
}


@pytest.fixture
def busy_queues(submitted_registration, settings):
    settings.MODERATION_SPAM_CSV = ""
    person = UserFactory(email="bongani.van.der.merwe@example.com", full_name="Bongani van der Merwe-Khumalo")
    submitted_registration(
        hours_ago=40,
        email="nomvula.dlamini-ngcobo@example.com",
        full_name="Nomvula Dlamini-Ngcobo",
        signals=(("ip_velocity", 20), ("disposable_email", 30), ("name_mismatch", 10)),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        messaging.conversation_start(
            user=person, subject="My listing was renewed twice and I was charged for both", body="Please refund one."
        )
        support.ticket_create(
            requester=person,
            subject="Payout for the mountain bike has not arrived after a week",
            body="Hello",
            channel="web",
        )
        listing = ListingFactory(title="Brand new iPhone 17 Pro Max, sealed box, unbelievable price, urgent sale")
        flag_create(reporter=person, kind="listing", object_id=listing.pk, reason=Reason.FRAUD, comment="Too cheap")


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_every_queue_fits_the_screen_with_its_deadline_in_view(
    page, live_server, administrator, busy_queues, screenshot, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, administrator.email)
    for name, path in QUEUES.items():
        page.goto(f"{live_server.url}{path}")
        table = page.locator("table.data.queue").first
        expect(table.locator("tbody tr")).not_to_have_count(0)
        wrap = page.locator(".table-wrap").first
        overflow = wrap.evaluate("box => box.scrollWidth - box.clientWidth")
        assert overflow <= 1, f"{name} scrolls sideways by {overflow} px at {width} px"
        deadline = table.locator("tbody tr").first.locator("td.deadline-cell")
        box = deadline.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
        screenshot(page, f"queue-{name}-{width}")


def test_a_queue_is_worked_from_the_keyboard_and_passes_an_accessibility_check(
    page, live_server, administrator, busy_queues, settings
):
    settings.MODERATION_SPAM_CSV = ""
    person = UserFactory(email="lindiwe@example.com", full_name="Lindiwe Zulu")
    with TestCase.captureOnCommitCallbacks(execute=True):
        second = support.ticket_create(requester=person, subject="Cannot upload photos", body="Hi", channel="web")
    sign_in(page, live_server.url, administrator.email)
    page.goto(f"{live_server.url}{QUEUES['support']}")
    rows = page.locator("table.data.queue tbody tr")
    expect(rows).to_have_count(2)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("is-current"))
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    for path in QUEUES.values():
        page.goto(f"{live_server.url}{path}")
        serious = [
            violation["id"]
            for violation in Axe().run(page).response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        assert serious == [], (path, serious)

    page.goto(f"{live_server.url}{QUEUES['support']}")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/dashboard/support/tickets/{second.pk}/$"))
