"""Which chat replies are e-mailed: in a live chat only those the user has not read, gathered into one e-mail a
few minutes later; ordinary tickets and ended chats e-mail every reply at once. And how the user says "read"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from saypro.outbox.followups import followups_reconcile
from support import services
from support.models import Channel, TicketMessage
from tests.support.test_chat_consumers import agent_socket, run, socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(user, ticket_for):
    chat = ticket_for(user, subject="Where is my payout?", channel=Channel.CHAT)
    mail.outbox = []  # the acknowledgement
    return chat


def reply_later(ticket, agent, body):
    """An agent's reply whose after-commit work (the e-mail task) is handed back to run "later"."""
    with TestCase.captureOnCommitCallbacks() as callbacks:
        message = services.ticket_reply(ticket=ticket, by=agent, body=body)
    return message, callbacks


def replies_mailed():
    return [m for m in mail.outbox if m.subject.startswith("[#")]


def test_a_live_chat_reply_the_user_read_is_not_emailed(chat, agent, user):
    message, callbacks = reply_later(chat, agent, "Your payout left this morning.")
    services.chat_mark_read(ticket=chat, up_to=message.pk)
    for callback in callbacks:
        callback()
    assert replies_mailed() == []


def test_unread_live_chat_replies_are_emailed_once_in_one_email(chat, agent, user):
    first, later = reply_later(chat, agent, "Let me look.")
    services.chat_mark_read(ticket=chat, up_to=first.pk)
    pending = later
    for body in ("Found it: the bank returned it.", "Please check your IBAN."):
        _, callbacks = reply_later(chat, agent, body)
        pending += callbacks
    # Every task runs, and each twice (a redelivery): the read reply is left out, the others go in one e-mail.
    for callback in pending + pending:
        callback()
    [email] = replies_mailed()
    assert email.to == [user.email]
    assert "2 messages" in email.body and "bank returned it" in email.body and "check your IBAN" in email.body
    assert "Let me look." not in email.body

    # The sweep that replays lost follow-ups does not send what was left out on purpose.
    followups_reconcile(now=timezone.now() + timedelta(hours=2))
    assert len(replies_mailed()) == 1

    # A reply after that e-mail brings only itself.
    _, callbacks = reply_later(chat, agent, "Anything else?")
    for callback in callbacks:
        callback()
    assert len(replies_mailed()) == 2
    assert "Anything else?" in mail.outbox[-1].body and "IBAN" not in mail.outbox[-1].body


def test_an_ordinary_ticket_emails_every_reply_at_once(user, agent, ticket_for):
    ticket = ticket_for(user, subject="Where is my payout?", channel=Channel.WEB)
    mail.outbox = []
    for body in ("Let me look.", "Found it."):
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.ticket_reply(ticket=ticket, by=agent, body=body)
    assert [m.body.split("\n\n")[1] for m in replies_mailed()] == ["Let me look.", "Found it."]


def test_ending_a_chat_emails_at_once_with_the_replies_the_user_did_not_read(chat, agent, user):
    _, pending = reply_later(chat, agent, "Your payout is on hold.")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.chat_convert_to_ticket(ticket=chat, by=agent)
    [email] = replies_mailed()
    assert "on hold" in email.body and "2 messages" in email.body
    # The live reply's own delayed task finds it already sent.
    for callback in pending:
        callback()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ticket_reply(ticket=chat, by=agent, body="It is released now.")
    assert len(replies_mailed()) == 2 and "released" in mail.outbox[-1].body


@pytest.mark.django_db(transaction=True)
def test_the_socket_stores_what_the_requester_read_and_nothing_for_the_agent(chat, agent, user, ticket_for):
    other_chat = ticket_for(user, subject="Another", channel=Channel.CHAT)
    key = Token.objects.create(user=user).key
    desk = agent_socket(agent, chat.pk)

    async def scenario():
        customer = socket(chat.pk, key)
        assert (await customer.connect())[0] and (await desk.connect())[0]
        await desk.send_json_to({"type": "message", "body": "Hello!"})
        await customer.receive_json_from()
        await desk.receive_json_from()
        # The agent reading stores nothing; the requester's bare read covers what their socket delivered.
        await desk.send_json_to({"type": "read"})
        assert await customer.receive_json_from() == {"type": "read", "side": "agent"}
        await customer.send_json_to({"type": "read"})
        assert await desk.receive_json_from() == {"type": "read", "side": "user"}
        await customer.disconnect()
        await desk.disconnect()

    run(scenario)
    hello = chat.messages.get(body="Hello!")
    chat.refresh_from_db()
    other_chat.refresh_from_db()
    assert chat.chat_read_message_id == hello.pk and chat.chat_read_at is not None
    assert other_chat.chat_read_message_id is None


@pytest.mark.django_db(transaction=True)
def test_an_agents_read_event_does_not_mark_the_chat_read(chat, agent):
    services.ticket_reply(ticket=chat, by=agent, body="Hello!")
    desk = agent_socket(agent, chat.pk)

    async def scenario():
        assert (await desk.connect())[0]
        await desk.send_json_to({"type": "read", "id": 10**9})
        await desk.send_json_to({"type": "dance"})
        assert (await desk.receive_json_from())["type"] == "error"
        await desk.disconnect()

    run(scenario)
    chat.refresh_from_db()
    assert chat.chat_read_message_id is None


def test_the_read_endpoint_marks_the_chat_read_up_to_a_message_and_never_back(chat, agent, user, outsider):
    first = services.ticket_reply(ticket=chat, by=agent, body="One")
    second = services.ticket_reply(ticket=chat, by=agent, body="Two")
    services.ticket_reply(ticket=chat, by=agent, body="Internal", public=False)
    client = APIClient()
    client.force_authenticate(user)
    url = f"/api/v1/support/chats/{chat.pk}/read/"
    assert client.post(url, {"id": second.pk}, format="json").status_code == 204
    assert client.post(url, {"id": first.pk}, format="json").status_code == 204
    chat.refresh_from_db()
    assert chat.chat_read_message_id == second.pk
    # Past the last message the user can see (an internal note is not one): capped.
    client.post(url, {}, format="json")
    chat.refresh_from_db()
    assert chat.chat_read_message_id == second.pk
    assert chat.messages.filter(kind=TicketMessage.Kind.NOTE).get().pk > second.pk

    bad = client.post(url, {"id": "x"}, format="json")
    assert bad.status_code == 400 and "id" in bad.json()["error"]["fields"]
    client.force_authenticate(outsider)
    assert client.post(url, {"id": second.pk}, format="json").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_routing_a_chat_to_an_agent_tells_the_agents_queue(agent, user, ticket_for, settings):
    from accounts.models import AgentProfile
    from tests.support.conftest import staff_socket

    settings.SUPPORT_AUTO_ASSIGN = False
    chat = ticket_for(user, subject="Payout", channel=Channel.CHAT, department="billing")
    ticket = ticket_for(user, subject="By e-mail", channel=Channel.EMAIL, department="billing")
    AgentProfile.objects.create(user=agent, languages=[chat.language or "en"])
    desk = staff_socket(agent, "/ws/support/agent/chats/")

    async def scenario():
        from channels.db import database_sync_to_async

        assert (await desk.connect())[0]
        # Routing an ordinary ticket leaves the chat panel alone.
        await database_sync_to_async(services.ticket_route)(ticket=ticket)
        assert await desk.receive_nothing(timeout=0.5)
        await database_sync_to_async(services.ticket_route)(ticket=chat)
        assert await desk.receive_json_from() == {"type": "queue"}
        await desk.disconnect()

    run(scenario)
    chat.refresh_from_db()
    ticket.refresh_from_db()
    assert chat.assignee == agent and ticket.assignee == agent


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_holds_a_live_chat_reply_back_and_sends_a_tickets_reply_at_once(
    celery_worker_live, settings, user, agent, ticket_for
):
    from tests.conftest import wait_for

    settings.SUPPORT_CHAT_EMAIL_DELAY_SECONDS = 3600
    chat = ticket_for(user, subject="Payout", channel=Channel.CHAT)
    ticket = ticket_for(user, subject="Refund", channel=Channel.WEB)
    # The chat's reply is published first: without its delay the worker would take it first.
    services.ticket_reply(ticket=chat, by=agent, body="Chat reply")
    services.ticket_reply(ticket=ticket, by=agent, body="Ticket reply")
    wait_for(lambda: any("Ticket reply" in m.body for m in mail.outbox))
    assert not any("Chat reply" in m.body for m in mail.outbox)
