"""An agent's inbox in a real browser: the unassigned view, a reply from a canned response, the clock met, and a
new message from the user appearing without a reload."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from messaging import services
from support.models import Macro
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/dashboard/messages/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/dashboard/messages/")


def write_in(user, body: str, *, hours_ago: float = 0, subject: str = ""):
    past = timezone.now() - timedelta(hours=hours_ago)
    with time_machine.travel(past, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return services.conversation_start(user=user, body=body, subject=subject)


def test_agent_answers_an_unassigned_message_with_a_canned_response_and_the_clock_is_met(
    page, live_server, agent, settings, screenshot, monkeypatch
):
    settings.MODERATION_SPAM_CSV = ""
    monkeypatch.setattr("messaging.views.THREAD_REFRESH_SECONDS", 1)
    thandi = UserFactory(email="thandi@example.com", full_name="Thandi Nkosi")
    sipho = UserFactory(email="sipho@example.com", full_name="Sipho Dlamini")
    waiting = write_in(thandi, "How do I change the photos of my bicycle ad?", hours_ago=20, subject="Ad photos")
    write_in(sipho, "Please renew my ad, it has expired", hours_ago=2, subject="Renewal")
    Macro.objects.create(
        name="How to edit an ad",
        body="Hello {{ requester_name }}, open My ads, choose the ad and tap Edit. Kind regards, {{ agent_name }}",
        for_conversations=True,
    )
    base = live_server.url

    sign_in(page, base, agent.email)
    page.get_by_role("navigation", name="Inbox views").get_by_role("link", name=re.compile("^Unassigned")).click()
    rows = page.locator("[data-testid=inbox] tbody tr")
    expect(rows).to_have_count(2)
    # Soonest deadline first: 20 hours into the 24 is at risk.
    expect(rows.first).to_have_attribute("data-conversation", str(waiting.pk))
    expect(rows.first).to_have_class(re.compile("is-at-risk"))
    expect(rows.first.locator(".deadline")).to_contain_text("left")
    screenshot(page, "messaging-inbox")

    rows.first.get_by_role("link", name="Ad photos").click()
    expect(page.get_by_test_id("first-response-clock")).to_contain_text("left")
    # The canned response goes in at the cursor, without a reload: what the agent typed around it stays.
    reply_box = page.get_by_label("Reply to the user")
    reply_box.fill("Thanks for asking!\n\nSipho from support")
    reply_box.evaluate("box => box.setSelectionRange(20, 20)")
    page.get_by_label("Canned response").select_option(label="How to edit an ad")
    expect(reply_box).to_have_value(
        re.compile(r"^Thanks for asking!\n\nHello Thandi, open My ads.*Kind regards, \S+Sipho from support$", re.S)
    )
    expect(page.get_by_label("Canned response")).to_be_visible()
    assert page.url.endswith(f"/dashboard/messages/{waiting.pk}/")
    screenshot(page, "messaging-thread-reply")
    page.get_by_role("button", name="Send reply").click()

    expect(page.get_by_role("status")).to_contain_text("Reply sent to Thandi Nkosi")
    expect(page.get_by_test_id("first-response-clock")).to_contain_text("met")
    expect(page.get_by_test_id("status")).to_have_text("Waiting on user")
    expect(page.get_by_test_id("thread").locator("[data-kind=reply]")).to_contain_text("open My ads")

    # The user answers while the agent has the thread open: it appears without a reload.
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.message_send(conversation=waiting, user=thandi, body="Found it, thank you!")
    expect(page.get_by_test_id("thread").locator("[data-kind=user]").last).to_contain_text("Found it", timeout=10_000)
    screenshot(page, "messaging-thread-live")

    page.get_by_role("link", name="Messages").first.click()
    expect(page.locator(f"[data-testid=inbox] tbody tr[data-conversation='{waiting.pk}']")).to_contain_text("You")
