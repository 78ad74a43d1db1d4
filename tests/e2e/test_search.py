"""An agent finds a solved ticket from the search box in the top bar of any staff page, and opens it."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import TestCase
from playwright.sync_api import expect

from support import services
from support.models import Status
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()


@pytest.fixture
def solved_ticket(agent):
    person = UserFactory(email="thandiwe.mokoena@example.com", full_name="Thandiwe Mokoena")
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = services.ticket_create(
            requester=person,
            subject="Refund for the cracked kettle from order SP-2231",
            body="The kettle arrived cracked.",
            channel="web",
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.ticket_reply(ticket=ticket, by=agent, body="Refunded in full.", public=True, status=Status.SOLVED)
        # Still open, and found by the same words: the solved one is not hidden behind open work.
        services.ticket_create(
            requester=UserFactory(full_name="Pieter Botha"),
            subject="Kettle listing shows the wrong price",
            body="It says R10.",
            channel="web",
        )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    return ticket


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_an_agent_finds_a_solved_ticket_from_the_top_bar_and_opens_it(
    page, live_server, agent, solved_ticket, screenshot, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, agent.email)
    # On a page without a list of its own, "/" goes to the search across everything.
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("main h1").first.click()
    page.keyboard.press("/")
    expect(page.locator("#topbar-q")).to_be_focused()

    page.goto(f"{live_server.url}/dashboard/support/")
    # Open work only: the solved ticket is not in the default view.
    expect(page.locator(f"[data-ticket='{solved_ticket.pk}']")).to_have_count(0)

    box = page.get_by_role("searchbox", name="Find a ticket, conversation, registration or case")
    expect(box).to_be_visible()
    box.fill("cracked kettle")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/search/\?q=cracked\+kettle$"))
    tickets = page.get_by_test_id("search-tickets")
    hit = tickets.locator(f"[data-hit='tickets-{solved_ticket.pk}']")
    expect(hit).to_be_visible()
    expect(hit.get_by_test_id("hit-status")).to_have_text("Solved")
    expect(hit).to_contain_text("Thandiwe Mokoena")
    expect(page.get_by_test_id("search-conversations")).to_contain_text("No conversations match.")
    # An agent reads no registrations or cases: those kinds are not even named.
    expect(page.get_by_test_id("search-registrations")).to_have_count(0)
    expect(page.get_by_test_id("search-cases")).to_have_count(0)
    # The page fits the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    serious = [
        violation["id"]
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
    screenshot(page, f"search-results-{width}")

    hit.get_by_role("link", name=re.compile("Refund for the cracked kettle")).click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/support/tickets/{solved_ticket.pk}/")
    expect(page.get_by_test_id("status")).to_have_text("Solved")
    screenshot(page, f"search-opened-ticket-{width}")

    # The finished views list it too.
    page.goto(f"{live_server.url}/dashboard/support/?view=solved")
    expect(page.locator(f"[data-ticket='{solved_ticket.pk}']")).to_be_visible()
    screenshot(page, f"support-solved-view-{width}")
