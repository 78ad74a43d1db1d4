from __future__ import annotations

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client, TestCase

from support import services
from support.models import Channel, Department, Ticket


def make_ticket(
    requester, *, subject="My payout has not arrived", body="I sold a bike last week.", **options
) -> Ticket:
    """A ticket created through the service, with its after-commit work (acknowledgement, triage) done."""
    options.setdefault("channel", Channel.WEB)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.ticket_create(requester=requester, subject=subject, body=body, **options)


class Socket(WebsocketCommunicator):
    """A test socket that waits up to 10 s for its handshake and each frame: channels' default second is too short
    on a loaded machine. `receive_nothing` keeps its short wait."""

    WAIT = 10

    async def connect(self, timeout=WAIT):
        return await super().connect(timeout)

    async def receive_from(self, timeout=WAIT):
        return await super().receive_from(timeout)

    async def receive_json_from(self, timeout=WAIT):
        return await super().receive_json_from(timeout)

    async def disconnect(self, code=1000, timeout=0.2):
        # A consumer ends within milliseconds of its disconnect or not within channels' default second either (a
        # read from the Redis layer still pending): the wait then ends by cancelling it, so a longer one only idles.
        await super().disconnect(code, timeout)


def staff_socket(staff, path: str, origin: bytes = b"http://testserver") -> Socket:
    """A socket opened from the agents' workspace by a signed-in member of staff (a client of its own per socket:
    signing another user in on the same client would end the first session)."""
    from saypro.asgi import application

    client = Client()
    client.force_login(staff)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return Socket(application, path, headers=[(b"cookie", cookie), (b"origin", origin)])


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer of each test's own: every chat test runs its event loop anew, and the Redis layer keeps
    asyncio locks bound to the loop that first used them (a lock a previous test left held fails the next one)."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def ticket_for():
    return make_ticket


@pytest.fixture
def billing(db):
    return Department.objects.get(slug="billing")


@pytest.fixture
def accounts_department(db):
    return Department.objects.get(slug="accounts")
