"""A marketplace user and an agent chat in real time: the user over their WebSocket (with their API token), the
agent in Chromium on the chat panel. The pages come from the live server, the WebSockets from daphne started here
on the same test database and Redis channel layer, as in production behind the proxy."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from accounts import roles
from support import services
from support.models import Channel, Macro, Ticket
from tests.e2e.test_support_workspace import sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # Events cross processes (live server, daphne, the test) through Redis; CI always has it.
    pytest.mark.skipif(
        not django_settings.REDIS_URL and not os.environ.get("CI"), reason="needs Redis for the channel layer"
    ),
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def chat_server(live_server, settings, tmp_path):
    """daphne on a free port, on the test database; the panel's pages point their sockets at it."""
    db = connection.settings_dict
    port = free_port()
    log = tmp_path / "daphne.log"
    env = {
        # Without the test worker's name: REDIS_URL below is already this worker's database, and settings would
        # otherwise add the worker's number to it a second time.
        **{name: value for name, value in os.environ.items() if name != "PYTEST_XDIST_WORKER"},
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        # No worker runs beside the test: the reply e-mail is sent in daphne's process.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_URL": "locmem://",
    }
    server = subprocess.Popen(
        # Every local address: the browser may reach "localhost" over IPv6 or IPv4.
        [sys.executable, "-m", "daphne", "-e", f"tcp:port={port}:interface=\\:\\:", "saypro.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
    # The session cookie belongs to the live server's host name: the socket must use the same one.
    settings.SUPPORT_CHAT_SOCKET_URL = f"ws://{urlsplit(live_server.url).hostname}:{port}"
    yield settings.SUPPORT_CHAT_SOCKET_URL
    server.terminate()
    server.wait(timeout=15)


def in_a_thread(work):
    # Services called here send channel-layer events after commit; Playwright's loop runs in the main thread.
    def run():
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()


USER_SOCKET = """([url]) => new Promise((resolve, reject) => {
    window.events = [];
    window.chat = new WebSocket(url);
    window.chat.onmessage = (event) => window.events.push(JSON.parse(event.data));
    window.chat.onopen = () => resolve(true);
    window.chat.onclose = (event) => reject(new Error("closed " + event.code));
})"""


def user_events(user_page, kind: str) -> list[dict]:
    return user_page.evaluate("(kind) => window.events.filter((event) => event.type === kind)", kind)


def wait_for_user_event(user_page, kind: str, count: int = 1) -> list[dict]:
    user_page.wait_for_function(
        "([kind, count]) => window.events.filter((event) => event.type === kind).length >= count", arg=[kind, count]
    )
    return user_events(user_page, kind)


def test_a_user_and_an_agent_chat_live_and_the_transcript_stays_on_the_ticket(
    page, browser, live_server, chat_server, agent, screenshot
):
    naledi = UserFactory(email="naledi@example.com", full_name="Naledi Khumalo")
    token = Token.objects.create(user=naledi).key
    Macro.objects.create(name="Payout timing", body="Hello {{ requester_name }}, payouts reach your bank in 2 days.")
    Macro.objects.create(name="Anything else?", body="Is there anything else I can help with?")
    base = live_server.url

    sign_in(page, base, agent.email)
    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Live chat").click()
    expect(page.get_by_role("heading", name="Live chat")).to_be_visible()
    expect(page.get_by_test_id("chat-queue-empty")).to_be_visible()
    expect(page.locator("[data-queue-state]")).to_have_text("Live")

    # A chat arrives: the queue shows it at once (its timer refresh would take 30 s).
    chat = in_a_thread(
        lambda: services.ticket_create(
            requester=naledi, subject="Where is my payout?", body="Hi, my payout is late.", channel=Channel.CHAT
        )
    )
    row = page.locator(f"[data-testid=chat-queue] tr[data-chat='{chat.pk}']")
    expect(row).to_be_visible(timeout=5000)
    expect(row).to_contain_text("Naledi Khumalo")
    expect(row).to_contain_text("New")
    expect(page.get_by_test_id("chat-waiting-count")).to_have_text("1")

    # Keyboard: j chooses the first chat, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Naledi Khumalo"))).to_be_visible()
    expect(page.locator("[data-chat-state]")).to_contain_text("Connected")
    expect(page.get_by_test_id("chat-transcript")).to_contain_text("Hi, my payout is late.")

    # The user's side: their own WebSocket with their API token, from a page of their own.
    user_context = browser.new_context()
    user_page = user_context.new_page()
    user_page.goto(f"{base}/help/")
    user_page.evaluate(USER_SOCKET, [f"{chat_server}/ws/support/chats/{chat.pk}/?token={token}"])
    # The agent opened the chat: the user learns it was read once the agent's page says so again (on message).
    user_page.evaluate("() => window.chat.send(JSON.stringify({type: 'typing'}))")
    expect(page.get_by_test_id("chat-typing")).to_have_text("Naledi is typing…")
    user_page.evaluate("() => window.chat.send(JSON.stringify({type: 'message', body: 'It was due on Monday.'}))")
    expect(page.get_by_test_id("chat-transcript")).to_contain_text("It was due on Monday.")
    expect(page.get_by_test_id("chat-typing")).to_be_hidden()
    assert wait_for_user_event(user_page, "read")[-1] == {"type": "read", "side": "agent"}
    screenshot(page, "chat-panel-typing")

    # A canned reply, found by typing, then Enter sends it.
    page.get_by_label("Canned reply").fill("payout")
    expect(page.locator("[data-canned-list] li:not([hidden]) [data-canned]")).to_have_count(1)
    screenshot(page, "chat-panel-canned")
    page.get_by_role("button", name=re.compile("Payout timing")).click()
    composer = page.get_by_label("Message to Naledi")
    expect(composer).to_have_value("Hello Naledi, payouts reach your bank in 2 days.")
    user_before = len(user_events(user_page, "typing"))
    composer.press("End")
    composer.type(" Sorry for the wait!")
    assert len(wait_for_user_event(user_page, "typing", user_before + 1)) > user_before
    composer.press("Enter")
    expect(composer).to_have_value("")
    reply = wait_for_user_event(user_page, "message", 2)[-1]
    assert (reply["kind"], reply["body"]) == (
        "reply",
        "Hello Naledi, payouts reach your bank in 2 days. Sorry for the wait!",
    )
    expect(page.get_by_test_id("chat-transcript")).to_contain_text("Sorry for the wait!")

    # The user reads it: the agent sees it was seen.
    user_page.evaluate("() => window.chat.send(JSON.stringify({type: 'read'}))")
    expect(page.get_by_test_id("chat-seen")).to_have_text("Seen by Naledi")
    expect(row).to_contain_text("answered")
    screenshot(page, "chat-panel-open")

    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []

    # The agent's first reply stopped the first-response clock, within its target.
    ticket = Ticket.objects.get(pk=chat.pk)
    assert ticket.first_responded_at is not None and ticket.assignee == agent
    clock = ticket.clocks.get(metric="ticket.first_response")
    assert clock.stopped_at is not None and clock.met is True

    # The agent ends the chat as a ticket: the user is told in the chat, and the transcript is on the ticket page.
    page.get_by_text("Convert to a ticket").click()
    page.get_by_label("Add to the message (optional)").fill("I will check with the bank.")
    page.get_by_role("button", name="End the chat as a ticket").click()
    expect(page).to_have_url(re.compile(rf"/support/tickets/{chat.pk}/$"))
    ended = wait_for_user_event(user_page, "ended")[0]
    assert ended["ticket"] == chat.pk and "by e-mail" in ended["detail"]
    timeline = page.get_by_test_id("timeline")
    for said in ("It was due on Monday.", "Sorry for the wait!", "continuing this conversation by e-mail"):
        expect(timeline).to_contain_text(said)
    expect(timeline).to_contain_text("ended the chat as a ticket")
    screenshot(page, "chat-ticket-after")
    user_context.close()


def test_a_chat_transferred_from_the_panel_lands_in_the_colleagues_queue_with_the_note(
    page, browser, live_server, chat_server, agent, screenshot
):
    colleague = UserFactory(email="thandi@saypro.example", full_name="Thandi Mokoena", roles=[roles.SUPPORT_AGENT])
    waited = {"Sipho Dlamini": 7, "Lerato Nkosi": 3, "Naledi Khumalo": 0.5}
    chats = {}
    for name, minutes in waited.items():
        with time_machine.travel(timezone.now() - timedelta(minutes=minutes), tick=False):
            chats[name] = in_a_thread(
                lambda name=name: services.ticket_create(
                    requester=UserFactory(full_name=name),
                    subject=f"Question from {name}",
                    body="Hello?",
                    channel="chat",
                )
            )
    base = live_server.url
    sign_in(page, base, agent.email)
    page.goto(f"{base}/dashboard/support/chats/")
    rows = page.locator("[data-testid=chat-queue] tbody tr")
    expect(rows).to_have_count(3)
    # Longest wait first; the wait stands out as it grows.
    expect(rows.nth(0)).to_contain_text("Sipho Dlamini")
    expect(rows.nth(0).locator(".chat-wait")).to_have_class(re.compile("is-late"))
    expect(rows.nth(1).locator(".chat-wait")).to_have_class(re.compile("is-long"))
    screenshot(page, "chat-panel-queue")

    desk = browser.new_context().new_page()
    sign_in(desk, base, colleague.email)
    desk.goto(f"{base}/dashboard/support/chats/")
    expect(desk.locator("[data-queue-state]")).to_have_text("Live")

    lerato = chats["Lerato Nkosi"]
    rows.nth(1).get_by_role("link").click()
    expect(page.locator("[data-chat-state]")).to_contain_text("Connected")
    page.get_by_label("Message to Lerato").fill("Hello Lerato, one moment please.")
    page.get_by_label("Message to Lerato").press("Enter")
    expect(page.get_by_test_id("chat-transcript")).to_contain_text("one moment please")
    page.locator("summary", has_text="Transfer").click()
    page.get_by_label("Transfer to").select_option(label="Thandi Mokoena")
    page.get_by_label("Note for them (optional)").fill("Asks about a refund for order 42")
    screenshot(page, "chat-panel-transfer")
    page.get_by_role("button", name="Transfer the chat").click()
    expect(page.locator(".messages")).to_contain_text(f"Chat #{lerato.pk} transferred.")
    expect(page.locator(f"[data-testid=chat-queue] tr[data-chat='{lerato.pk}']")).to_have_count(0)

    # Thandi's queue shows it at once, as hers, with the note.
    received = desk.locator(f"[data-testid=chat-queue] tr[data-chat='{lerato.pk}']")
    expect(received).to_be_visible(timeout=5000)
    expect(received.get_by_test_id("chat-transfer-note")).to_have_text(
        f"Transferred by {agent.full_name}: “Asks about a refund for order 42”"
    )
    screenshot(desk, "chat-panel-received")
    ticket = Ticket.objects.get(pk=lerato.pk)
    assert ticket.assignee == colleague
    desk.goto(f"{base}/dashboard/support/tickets/{lerato.pk}/")
    expect(desk.get_by_test_id("timeline")).to_contain_text("transferred the chat: Asks about a refund for order 42")
