from __future__ import annotations

import pytest
from channels.layers import channel_layers
from django.test import TestCase

from support import services
from support.models import Channel, Department, Ticket


def make_ticket(
    requester, *, subject="My payout has not arrived", body="I sold a bike last week.", **options
) -> Ticket:
    """A ticket created through the service, with its after-commit work (acknowledgement, triage) done."""
    options.setdefault("channel", Channel.WEB)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.ticket_create(requester=requester, subject=subject, body=body, **options)


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
