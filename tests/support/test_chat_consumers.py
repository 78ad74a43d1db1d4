"""The user's live-chat WebSocket: token authentication, only their own chat, messages and typing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from saypro.asgi import application
from support.models import Channel, TicketMessage
from tests.support.conftest import Socket, staff_socket

# The consumer reads the database from a worker thread: the rows must be committed for it to see them.
pytestmark = pytest.mark.django_db(transaction=True)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    # In its own thread: a browser test earlier in this process leaves Playwright's event loop running in the main
    # thread, where async_to_sync refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(async_to_sync(scenario)).result()


def socket(ticket_id: int, token: str) -> Socket:
    return Socket(application, f"/ws/support/chats/{ticket_id}/?token={token}")


@pytest.fixture
def chat(user, ticket_for):
    return ticket_for(user, subject="Where is my payout?", channel=Channel.CHAT)


def test_a_socket_without_a_valid_token_is_refused(chat):
    async def scenario():
        for token in ("", "not-a-token"):
            connected, code = await socket(chat.pk, token).connect()
            assert (connected, code) == (False, 4401)

    run(scenario)


def test_a_user_cannot_open_someone_elses_chat_or_a_ticket_that_is_not_a_chat(chat, outsider, user, ticket_for):
    email_ticket = ticket_for(user, channel=Channel.WEB)
    outsiders, own = Token.objects.create(user=outsider).key, Token.objects.create(user=user).key

    async def scenario():
        for ticket_id, token in ((chat.pk, outsiders), (email_ticket.pk, own), (10**9, own)):
            connected, code = await socket(ticket_id, token).connect()
            assert (connected, code) == (False, 4404)

    run(scenario)


def test_a_message_is_stored_on_the_ticket_and_relayed_to_everyone_in_the_chat(chat, user):
    key = Token.objects.create(user=user).key

    async def scenario():
        first, second = socket(chat.pk, key), socket(chat.pk, key)
        assert (await first.connect())[0] and (await second.connect())[0]
        await first.send_json_to({"type": "message", "body": "  Hello, anyone there?  "})
        for side in (first, second):
            event = await side.receive_json_from()
            assert (event["type"], event["kind"], event["body"]) == ("message", "requester", "Hello, anyone there?")
        await first.disconnect()
        await second.disconnect()

    run(scenario)
    assert chat.messages.filter(kind=TicketMessage.Kind.REQUESTER, body="Hello, anyone there?").exists()


def test_typing_reaches_the_other_side_but_not_the_sender(chat, user):
    key = Token.objects.create(user=user).key

    async def scenario():
        typist, other = socket(chat.pk, key), socket(chat.pk, key)
        await typist.connect()
        await other.connect()
        await typist.send_json_to({"type": "typing"})
        assert await other.receive_json_from() == {"type": "typing", "side": "user"}
        assert await typist.receive_nothing()
        await typist.disconnect()
        await other.disconnect()

    run(scenario)


def test_an_empty_message_or_an_unknown_event_is_answered_with_an_error(chat, user):
    key = Token.objects.create(user=user).key

    async def scenario():
        client = socket(chat.pk, key)
        await client.connect()
        await client.send_json_to({"type": "message", "body": "   "})
        assert (await client.receive_json_from()) == {"type": "error", "detail": "Write a message."}
        await client.send_json_to({"type": "dance"})
        assert (await client.receive_json_from())["type"] == "error"
        await client.disconnect()

    run(scenario)


def agent_socket(staff, ticket_id: int, origin: bytes = b"http://testserver") -> Socket:
    return staff_socket(staff, f"/ws/support/agent/chats/{ticket_id}/", origin)


def test_only_signed_in_support_staff_from_the_workspace_may_open_the_agents_socket(
    chat, agent, user, outsider, ticket_for
):
    email_ticket = ticket_for(user, channel=Channel.WEB)
    refused = [
        (agent_socket(user, chat.pk), 4403),
        (agent_socket(outsider, chat.pk), 4403),
        (agent_socket(agent, email_ticket.pk), 4404),
    ]
    anonymous = Socket(application, f"/ws/support/agent/chats/{chat.pk}/", headers=[(b"origin", b"http://testserver")])
    foreign = agent_socket(agent, chat.pk, origin=b"https://evil.example")

    async def scenario():
        for communicator, code in refused:
            assert await communicator.connect() == (False, code)
        assert await anonymous.connect() == (False, 4401)
        assert (await foreign.connect())[0] is False

    run(scenario)


def test_staff_who_owe_their_second_factor_get_no_agents_socket_until_they_pass_it(chat, settings, administrator):
    settings.STAFF_2FA_REQUIRED = True
    owing = agent_socket(administrator, chat.pk)
    device = TOTPDevice.objects.create(user=administrator, name="phone", confirmed=True)
    client = Client()
    client.force_login(administrator)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    verified = Socket(
        application,
        f"/ws/support/agent/chats/{chat.pk}/",
        headers=[(b"cookie", f"sessionid={session.session_key}".encode()), (b"origin", b"http://testserver")],
    )

    async def scenario():
        assert await owing.connect() == (False, 4403)
        assert (await verified.connect())[0] is True
        await verified.disconnect()

    run(scenario)


def test_the_agents_reply_reaches_the_user_and_stops_the_first_response_clock(chat, agent, user):
    key = Token.objects.create(user=user).key
    desk = agent_socket(agent, chat.pk)

    async def scenario():
        customer = socket(chat.pk, key)
        assert (await customer.connect())[0] and (await desk.connect())[0]
        await customer.send_json_to({"type": "typing"})
        assert await desk.receive_json_from() == {"type": "typing", "side": "user"}
        await desk.send_json_to({"type": "read"})
        assert await customer.receive_json_from() == {"type": "read", "side": "agent"}
        await desk.send_json_to({"type": "message", "body": "Hi, I am looking at your payout now."})
        event = await customer.receive_json_from()
        assert (event["kind"], event["body"]) == ("reply", "Hi, I am looking at your payout now.")
        await customer.disconnect()
        await desk.disconnect()

    run(scenario)
    chat.refresh_from_db()
    assert chat.first_responded_at is not None and chat.assignee == agent
    clock = chat.clocks.get(metric="ticket.first_response")
    assert clock.stopped_at is not None and clock.met
