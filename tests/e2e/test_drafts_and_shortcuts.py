"""Nothing typed is lost, and each role's main actions have keys: a reply typed when the server failed is back when
the page opens again, and gone once sent; reviewers, agents and moderators work their items from the keyboard,
with the keys listed on the help overlay and shown on the buttons, never firing while a field is being typed in."""

from __future__ import annotations

import re

import pytest
from django.test import TestCase
from playwright.sync_api import expect

from messaging import services as messaging
from messaging.models import Message
from moderation.models import Reason
from moderation.services import flag_create
from support import services as support
from support.models import Ticket
from tests.factories import PASSWORD, ListingFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()


def press_outside_fields(page, *keys: str) -> None:
    page.locator("h1").first.click()
    for key in keys:
        page.keyboard.press(key)


def test_a_reply_survives_a_server_error_and_is_forgotten_once_sent(page, live_server, agent, screenshot):
    user = UserFactory(email="thandi@example.com", full_name="Thandi Nkosi")
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(user=user, subject="Ad photos", body="How do I change photos?")
    thread = f"{live_server.url}/dashboard/messages/{conversation.pk}/"
    sign_in(page, live_server.url, agent.email)
    page.goto(thread)
    text = "Open My ads, choose the bicycle and tap Edit, then Photos."
    page.get_by_label("Reply to the user").fill(text)
    page.get_by_label("Internal note").fill("Asked twice already; check the app version.")

    # The server fails the post: the person sees an error page, and the page opened again has the text back.
    page.route("**/reply/", lambda route: route.fulfill(status=500, body="<h1>Server error</h1>"))
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("heading", name="Server error")).to_be_visible()
    page.unroute("**/reply/")
    page.goto(thread)
    expect(page.get_by_label("Reply to the user")).to_have_value(text)
    expect(page.get_by_label("Internal note")).to_have_value("Asked twice already; check the app version.")
    expect(page.get_by_test_id("draft-restored").first).to_contain_text("has not been sent")
    screenshot(page, "draft-restored")

    # A lost connection keeps it too.
    page.route("**/reply/", lambda route: route.abort("connectionfailed"))
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()
    page.unroute("**/reply/")
    page.goto(thread)
    expect(page.get_by_label("Reply to the user")).to_have_value(text)
    assert not Message.objects.filter(conversation=conversation, body=text).exists()

    # Sent: the draft is gone; the note typed beside it, not sent, stays.
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()
    assert Message.objects.filter(conversation=conversation, body=text).exists()
    page.reload()
    expect(page.get_by_label("Internal note")).to_have_value("Asked twice already; check the app version.")
    drafts = page.evaluate("() => Object.keys(localStorage).filter(key => key.startsWith('saypro-draft:'))")
    assert drafts == [f"saypro-draft:/dashboard/messages/{conversation.pk}/note/#body"]

    # Discarding a restored draft empties the box and forgets it.
    page.get_by_role("button", name="Discard").click()
    expect(page.get_by_label("Internal note")).to_have_value("")
    page.reload()
    expect(page.get_by_label("Internal note")).to_have_value("")


def test_a_ticket_reply_posted_in_place_is_forgotten_when_it_went_through(page, live_server, agent):
    user = UserFactory(email="naledi@example.com", full_name="Naledi Khumalo")
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = support.ticket_create(requester=user, subject="Charged twice", body="Order SP-1042", channel="web")
    url = f"{live_server.url}/dashboard/support/tickets/{ticket.pk}/"
    sign_in(page, live_server.url, agent.email)
    page.goto(url)
    page.locator("#reply-body").fill("We refunded the second charge.")
    page.route("**/reply/", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Bad gateway")).to_be_visible()
    page.unroute("**/reply/")
    page.goto(url)
    expect(page.locator("#reply-body")).to_have_value("We refunded the second charge.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()
    expect(page.locator("#reply-body")).to_have_value("")
    page.reload()
    expect(page.locator("#reply-body")).to_have_value("")


def test_a_reviewer_claims_and_approves_from_the_keyboard(
    page, live_server, reviewer, submitted_registration, screenshot
):
    registration = submitted_registration(hours_ago=3, email="amahle@example.com", full_name="Amahle Mthembu")
    sign_in(page, live_server.url, reviewer.email)
    page.goto(f"{live_server.url}/dashboard/registrations/{registration.pk}/")

    claim = page.get_by_role("button", name="Claim")
    expect(claim).to_have_attribute("aria-keyshortcuts", "c")
    expect(claim.locator(".key-hint")).to_have_text("c")
    press_outside_fields(page, "?")
    listed = page.get_by_test_id("page-shortcuts")
    for key, words in (("c", "Claim"), ("a", "Approve"), ("r", "Reject"), ("i", "Request more information")):
        expect(listed.locator("dt", has_text=key).first).to_be_visible()
        expect(listed).to_contain_text(words)
    screenshot(page, "shortcuts-overlay-registration")
    page.keyboard.press("Escape")

    press_outside_fields(page, "c")
    expect(page.get_by_role("status")).to_contain_text(f"You claimed registration #{registration.pk}")

    # r opens the rejection and puts the cursor in its reason; typing there is text, not keys.
    press_outside_fields(page, "r")
    reason = page.locator("#id_reject-reason")
    expect(reason).to_be_focused()
    page.keyboard.type("a c i r")
    expect(reason).to_have_value("a c i r")
    expect(page.get_by_role("button", name="Release")).to_be_visible()
    reason.fill("")

    press_outside_fields(page, "a")
    expect(page.locator("#id_approve-reason")).to_be_focused()
    page.keyboard.type("Documents match the selfie.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Registration #{registration.pk} approved")
    registration.refresh_from_db()
    assert registration.status == "approved"


def test_an_agent_takes_notes_and_solves_a_ticket_from_the_keyboard(page, live_server, agent, screenshot):
    user = UserFactory(email="pieter@example.com", full_name="Pieter Botha")
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = support.ticket_create(requester=user, subject="Where is my parcel?", body="No update", channel="web")
    sign_in(page, live_server.url, agent.email)
    page.goto(f"{live_server.url}/dashboard/support/?view=all")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.keyboard.press("t")
    expect(page.get_by_role("status")).to_contain_text(f"You took ticket #{ticket.pk}")

    page.goto(f"{live_server.url}/dashboard/support/tickets/{ticket.pk}/")
    press_outside_fields(page, "n")
    expect(page.get_by_label("Internal note")).to_be_checked()
    expect(page.locator("#reply-body")).to_be_focused()
    page.keyboard.type("Courier says Friday. s t n")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Internal note added")).to_be_visible()

    solve = page.get_by_role("button", name="Solve")
    expect(solve.locator(".key-hint")).to_have_text("s")
    screenshot(page, "shortcuts-ticket")
    press_outside_fields(page, "s")
    expect(page.get_by_test_id("status")).to_have_text("Solved")
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_a_moderator_picks_the_decision_with_number_keys(page, live_server, moderator, settings, screenshot):
    settings.MODERATION_SPAM_CSV = ""
    listing = ListingFactory(title="Sealed iPhone at half price")
    flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=Reason.FRAUD, comment="Scam")
    sign_in(page, live_server.url, moderator.email)
    page.goto(f"{live_server.url}/dashboard/moderation/")
    page.locator("table.data.queue tbody tr a").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/moderation/cases/\d+/$"))

    press_outside_fields(page, "2")
    remove = page.get_by_role("radio", name="Remove", exact=True)
    expect(remove).to_be_checked()
    expect(remove).to_be_focused()
    screenshot(page, "shortcuts-case")
    page.keyboard.press("1")
    expect(page.get_by_role("radio", name=re.compile("^Keep"))).to_be_checked()
    press_outside_fields(page, "?")
    expect(page.get_by_test_id("page-shortcuts")).to_contain_text("Remove and ban the user")
    page.keyboard.press("Escape")
    assert Ticket.objects.count() == 0  # nothing else was touched by the keys
