"""The user's live-chat WebSocket: token authentication, only their own chat, messages and typing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from saypro.asgi import application
from support.models import Channel, TicketMessage

# The consumer reads the database from a worker thread: the rows must be committed for it to see them.
pytestmark = pytest.mark.django_db(transaction=True)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def socket(ticket_id: int, token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/support/chats/{ticket_id}/?token={token}")


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
