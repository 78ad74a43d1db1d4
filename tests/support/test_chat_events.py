"""The user's server-sent event stream of a live chat, served by the ASGI application, and what a chat turned into
an e-mail ticket tells its socket and stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from saypro.asgi import application
from support import services
from support.models import Channel, TicketMessage
from tests.foundation.test_api import assert_error_shape

from .test_chat_consumers import agent_socket, run, socket

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(call: Callable[[], Any]) -> Any:
    # The stream is an async view: the test client runs it with async_to_sync, which refuses the main thread while a
    # browser test earlier in this process has left Playwright's event loop running there.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(call).result()


def stream(ticket_id: int, headers: dict[bytes, bytes]) -> ApplicationCommunicator:
    path = f"/api/v1/support/chats/{ticket_id}/events/"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    return ApplicationCommunicator(application, scope)


async def start(communicator: ApplicationCommunicator) -> dict:
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    return await communicator.receive_output(timeout=10)


async def events(communicator: ApplicationCommunicator, *, until: str) -> list[dict]:
    """The events of the body chunks received until one of type `until` (keepalive comments skipped)."""
    found: list[dict] = []
    while not any(event["type"] == until for event in found):
        chunk = await communicator.receive_output(timeout=10)
        assert chunk["type"] == "http.response.body"
        for frame in chunk["body"].decode().split("\n\n"):
            data = [line.removeprefix("data: ") for line in frame.splitlines() if line.startswith("data: ")]
            if data:
                event = json.loads(data[0])
                if event["type"] == "message":
                    assert f"id: {event['id']}" in frame.splitlines()
                found.append(event)
    return found


async def stop(communicator: ApplicationCommunicator) -> None:
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(timeout=10)


@pytest.fixture
def chat(user, ticket_for):
    return ticket_for(user, subject="Where is my payout?", channel=Channel.CHAT)


def test_the_stream_delivers_the_agents_message_and_resumes_after_the_last_event_id(chat, user, agent):
    key = Token.objects.create(user=user).key
    first = services.ticket_requester_reply(ticket=chat, body="Still waiting")
    desk = agent_socket(agent, chat.pk)

    async def scenario():
        listener = stream(chat.pk, {b"authorization": f"Token {key}".encode()})
        head = await start(listener)
        assert head["status"] == 200
        assert dict((name.lower(), value) for name, value in head["headers"])[b"content-type"] == b"text/event-stream"
        assert (await listener.receive_output(timeout=10))["body"] == b"retry: 3000\n\n"
        assert (await desk.connect())[0]
        await desk.send_json_to({"type": "typing"})
        await desk.send_json_to({"type": "message", "body": "Found it: it leaves today."})
        received = await events(listener, until="message")
        assert received[0] == {"type": "typing", "side": "agent"}
        assert (received[1]["kind"], received[1]["body"]) == ("reply", "Found it: it leaves today.")
        await stop(listener)
        # A client that reconnects with the id of the last event it saw gets what came after it first.
        resumed = stream(chat.pk, {b"authorization": f"Token {key}".encode(), b"last-event-id": str(first.pk).encode()})
        await start(resumed)
        replayed = await events(resumed, until="message")
        assert [(e["kind"], e["body"]) for e in replayed] == [("reply", "Found it: it leaves today.")]
        await stop(resumed)
        await desk.disconnect()

    run(scenario)
    assert chat.messages.filter(kind=TicketMessage.Kind.REPLY).count() == 1


def test_the_stream_takes_the_token_in_the_query_for_event_source(chat, user):
    key = Token.objects.create(user=user).key
    response = in_thread(lambda: Client().get(f"/api/v1/support/chats/{chat.pk}/events/", {"token": key}))
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"


def test_the_stream_refuses_another_users_chat_a_ticket_that_is_not_a_chat_and_a_missing_or_bad_token(
    chat, user, outsider, ticket_for
):
    web = ticket_for(user, channel=Channel.WEB)
    own = Token.objects.create(user=user).key
    other = Token.objects.create(user=outsider).key
    client = Client()
    for ticket_id, token, status, code in (
        (chat.pk, other, 404, "not_found"),
        (web.pk, own, 404, "not_found"),
        (chat.pk, "", 401, "not_authenticated"),
        (chat.pk, "0" * 40, 401, "authentication_failed"),
    ):
        headers = {"Authorization": f"Token {token}"} if token else {}
        path = f"/api/v1/support/chats/{ticket_id}/events/"
        response = in_thread(lambda path=path, headers=headers: client.get(path, headers=headers))
        assert response.status_code == status, (ticket_id, token)
        assert_error_shape(response.json(), code)
    refused = in_thread(
        lambda: client.post(f"/api/v1/support/chats/{chat.pk}/events/", headers={"Authorization": f"Token {own}"})
    )
    assert refused.status_code == 405


def test_a_chat_turned_into_a_ticket_tells_its_socket_and_stream_why_and_ends(user, settings):
    # Half an hour that starts twelve hours from now: chat is closed whenever the test runs.
    hour = (timezone.localtime(timezone=ZoneInfo(settings.SUPPORT_LIVE_CHAT_TIME_ZONE)).hour + 12) % 24
    settings.SUPPORT_LIVE_CHAT_HOURS = f"{hour:02d}:00-{hour:02d}:30"
    ticket, availability = services.chat_open(requester=user, body="Anyone?")
    assert not availability.available and ticket.channel == Channel.EMAIL
    key = Token.objects.create(user=user).key

    async def scenario():
        client = socket(ticket.pk, key)
        assert (await client.connect())[0]
        event = await client.receive_json_from()
        assert (event["type"], event["reason"], event["ticket"]) == ("unavailable", "closed", ticket.pk)
        assert event["opens_at"] and "by e-mail" in event["detail"]
        assert (await client.receive_output())["type"] == "websocket.close"
        listener = stream(ticket.pk, {b"authorization": f"Token {key}".encode()})
        assert (await start(listener))["status"] == 200
        assert [e["type"] for e in await events(listener, until="unavailable")] == ["unavailable"]
        # The stream ends: no more body.
        last = await listener.receive_output(timeout=10)
        assert (last["type"], last.get("more_body", False)) == ("http.response.body", False)
        await listener.wait(timeout=10)

    run(scenario)
