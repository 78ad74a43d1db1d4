"""The agents' chat panel: its queue, transfer to a colleague or a department, and ending a chat as a ticket."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import AgentProfile
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError, InvalidInput
from support import chat_selectors, services
from support.models import Channel, DepartmentTransfer, Macro, Ticket, TicketMessage
from tests.factories import UserFactory


def make_agent(email: str, **profile) -> object:
    agent = UserFactory(email=email, full_name=email.split("@")[0].title(), roles=[roles.SUPPORT_AGENT])
    if profile:
        AgentProfile.objects.create(user=agent, **profile)
    return agent


@pytest.fixture
def chat_for(ticket_for):
    def make(requester, subject="Where is my payout?", minutes_ago: float = 0, **options):
        with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=False):
            return ticket_for(requester, subject=subject, body=subject, channel=Channel.CHAT, **options)

    return make


@pytest.fixture
def colleague(db):
    return make_agent("thandi@saypro.example")


# --- The queue -------------------------------------------------------------------------------------------------------


def test_the_queue_lists_unanswered_chats_first_longest_wait_first_then_the_agents_own(
    agent, colleague, chat_for, ticket_for
):
    people = [UserFactory(full_name=name) for name in ("Ama", "Bongani", "Chipo", "Dumi", "Esi")]
    answered_mine = chat_for(people[0], minutes_ago=30)
    services.ticket_reply(ticket=answered_mine, by=agent, body="Hello!")
    newer = chat_for(people[1], minutes_ago=2)
    older = chat_for(people[2], minutes_ago=9)
    routed_to_colleague = chat_for(people[3], minutes_ago=5)
    services.ticket_take(ticket=routed_to_colleague, by=colleague)
    answered_by_colleague = chat_for(people[4], minutes_ago=20)
    services.ticket_reply(ticket=answered_by_colleague, by=colleague, body="Hi")
    ticket_for(people[0], channel=Channel.WEB)
    services.ticket_requester_reply(ticket=answered_mine, body="Still there?")

    rows = chat_selectors.chat_queue(user=agent)

    assert [row.ticket for row in rows] == [older, routed_to_colleague, newer, answered_mine]
    assert [row.answered for row in rows] == [False, False, False, True]
    # The user wrote last on the agent's own chat: they wait since that message.
    assert rows[-1].waiting_since == answered_mine.messages.get(body="Still there?").created_at
    assert rows[0].waiting_since == older.created_at


def test_the_queue_drops_chats_that_ended_were_solved_or_went_to_someone_else(agent, colleague, user, chat_for):
    ended = chat_for(user)
    services.chat_convert_to_ticket(ticket=ended, by=agent)
    solved = chat_for(user)
    services.ticket_reply(ticket=solved, by=agent, body="Done", status="solved")
    handed_on = chat_for(user)
    services.ticket_reply(ticket=handed_on, by=agent, body="One moment")
    services.chat_transfer(ticket=handed_on, by=agent, to_agent=colleague)

    assert chat_selectors.chat_queue(user=agent) == []
    assert [row.ticket for row in chat_selectors.chat_queue(user=colleague)] == [handed_on]


def test_the_panel_page_costs_the_same_few_queries_for_many_chats(
    client, agent, colleague, user, chat_for, django_assert_max_num_queries
):
    for index in range(3):
        chat_for(UserFactory(), minutes_ago=index)
    opened = chat_for(user, minutes_ago=10)
    services.ticket_reply(ticket=opened, by=agent, body="Hello")
    client.force_login(agent)

    def measure() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("support:chat", args=[opened.pk])).status_code == 200
            assert client.get(reverse("support:chats"), headers={"X-Requested-With": "fetch"}).status_code == 200
        return len(queries)

    few = measure()
    for index in range(12):
        transferred = chat_for(UserFactory(), minutes_ago=index)
        services.chat_transfer(ticket=transferred, by=colleague, to_agent=agent, note=f"Over to you {index}")
        services.ticket_requester_reply(ticket=transferred, body="Hello again")
    make_agent("sipho@saypro.example", languages=["en"])
    assert measure() <= few + 2  # the shift calendars of agents with a profile: two prefetches, once
    with django_assert_max_num_queries(few + 2):
        client.get(reverse("support:chat", args=[opened.pk]))
        client.get(reverse("support:chats"), headers={"X-Requested-With": "fetch"})


def test_the_panel_lists_the_head_of_a_long_queue_and_says_more_are_waiting(client, agent, chat_for, monkeypatch):
    monkeypatch.setattr("support.chat_views.QUEUE_LIMIT", 2)
    chats = [chat_for(UserFactory(), minutes_ago=minutes) for minutes in (1, 3, 2)]
    client.force_login(agent)

    page = client.get(reverse("support:chats"), headers={"X-Requested-With": "fetch"})

    assert [row.ticket for row in page.context["queue"]] == [chats[1], chats[2]]
    assert "more chats are waiting" in page.content.decode()


def test_the_panel_shows_the_transcript_canned_replies_and_the_transfer_note(client, agent, colleague, chat_for, user):
    chat = chat_for(user, subject="My payout is late")
    services.ticket_requester_reply(ticket=chat, body="It was due on Monday.")
    services.chat_transfer(ticket=chat, by=colleague, to_agent=agent, note="Billing question, needs a refund check")
    Macro.objects.create(name="Payout timing", body="Hello {{ requester_name }}, payouts take 2 days.")
    client.force_login(agent)

    page = client.get(reverse("support:chat", args=[chat.pk])).content.decode()

    assert "It was due on Monday." in page and "My payout is late" in page
    assert "Transferred by Thandi: “Billing question, needs a refund check”" in page
    assert f"Hello {user.get_short_name()}, payouts take 2 days." in page
    assert 'aria-current="page"' in page


def test_an_ended_chat_opens_as_its_ticket_and_a_ticket_that_is_not_a_chat_is_not_found(
    client, agent, user, chat_for, ticket_for
):
    chat = chat_for(user)
    services.chat_convert_to_ticket(ticket=chat, by=agent)
    client.force_login(agent)
    assert client.get(reverse("support:chat", args=[chat.pk])).url == reverse("support:ticket", args=[chat.pk])
    web = ticket_for(user, channel=Channel.WEB)
    assert client.get(reverse("support:chat", args=[web.pk])).status_code == 404


def test_the_pages_may_connect_to_the_chat_socket_server_when_it_has_an_address_of_its_own(client, agent, settings):
    client.force_login(agent)
    assert "connect-src 'self';" in client.get(reverse("support:chats"))["Content-Security-Policy"]
    settings.SUPPORT_CHAT_SOCKET_URL = "ws://127.0.0.1:8001"
    page = client.get(reverse("support:chats"))
    assert "connect-src 'self' ws://127.0.0.1:8001;" in page["Content-Security-Policy"]
    assert 'data-socket-base="ws://127.0.0.1:8001"' in page.content.decode()


# --- Transfer ----------------------------------------------------------------------------------------------------


def test_a_transfer_hands_the_chat_to_the_colleague_with_a_note_in_its_history(agent, colleague, user, chat_for):
    chat = chat_for(user)
    services.ticket_reply(ticket=chat, by=agent, body="Let me check.")

    services.chat_transfer(ticket=chat, by=agent, to_agent=colleague, note="Needs a refund")

    chat.refresh_from_db()
    assert chat.assignee == colleague
    note = chat.messages.get(kind=TicketMessage.Kind.NOTE)
    assert note.body == "Chat transferred to Thandi.\n\nNeeds a refund" and note.author == agent
    entry = AuditEntry.objects.get(action="chat.transfer", target_id=chat.pk)
    assert entry.reason == "Needs a refund" and entry.data["to_agent"] == colleague.pk
    assert entry.action_label == "transferred the chat"


def test_a_transfer_to_a_department_returns_the_chat_to_its_queue_as_a_department_move(agent, user, chat_for, billing):
    chat = chat_for(user, department="general")
    services.ticket_take(ticket=chat, by=agent)

    services.chat_transfer(ticket=chat, by=agent, to_department="billing", note="Refund")

    chat.refresh_from_db()
    assert chat.department == billing and chat.assignee is None
    assert DepartmentTransfer.objects.filter(ticket=chat, to_department=billing, by=agent).exists()
    assert [row.ticket for row in chat_selectors.chat_queue(user=agent)] == [chat]


def test_who_may_transfer_and_to_whom(agent, colleague, manager, user, chat_for, ticket_for):
    chat = chat_for(user)
    off_shift = make_agent("away@saypro.example", is_available=False)
    with pytest.raises(services.ChatRefused):
        services.chat_transfer(ticket=chat, by=manager, to_agent=colleague)
    for target, field in ((off_shift, "to"), (manager, "to"), (agent, "to")):
        with pytest.raises(InvalidInput) as caught:
            services.chat_transfer(ticket=chat, by=agent, to_agent=target)
        assert field in caught.value.fields
    with pytest.raises(InvalidInput):
        services.chat_transfer(ticket=chat, by=agent, to_agent=colleague, to_department="billing")
    with pytest.raises(InvalidInput):
        services.chat_transfer(ticket=chat, by=agent, to_agent=colleague, note="x" * 1001)
    with pytest.raises(DomainError, match="not a live chat"):
        services.chat_transfer(ticket=ticket_for(user, channel=Channel.WEB), by=agent, to_agent=colleague)
    # Held by a colleague: only they hand it on.
    services.ticket_take(ticket=chat, by=colleague)
    with pytest.raises(DomainError, match="is with Thandi now"):
        services.chat_transfer(ticket=chat, by=agent, to_agent=make_agent("lwazi@saypro.example"))
    assert not AuditEntry.objects.filter(action="chat.transfer").exists()


def test_a_transfer_posted_from_the_panel_shows_form_errors_and_a_refusal(client, agent, colleague, user, chat_for):
    chat = chat_for(user)
    client.force_login(agent)
    url = reverse("support:chat-transfer", args=[chat.pk])

    empty = client.post(url, {"to": ""})
    assert empty.status_code == 400 and "This field is required." in empty.content.decode()
    unknown = client.post(url, {"to": "agent:999999"})
    assert unknown.status_code == 400
    moved = client.post(url, {"to": f"agent:{colleague.pk}", "note": "Over to you"})
    assert moved.url == reverse("support:chats")
    assert Ticket.objects.get(pk=chat.pk).assignee == colleague
    again = client.post(url, {"to": "department:billing"}, follow=True)
    assert "is with Thandi now" in again.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL")
def test_two_transfers_of_one_chat_at_once_end_with_one_decision():
    agent = make_agent("first@saypro.example")
    receivers = [make_agent("second@saypro.example"), make_agent("third@saypro.example")]
    with TestCase.captureOnCommitCallbacks(execute=True):
        chat = services.ticket_create(requester=UserFactory(), subject="Hi", body="Hello", channel=Channel.CHAT)
    services.ticket_take(ticket=chat, by=agent)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def transfer(receiver):
        try:
            barrier.wait()
            services.chat_transfer(ticket=Ticket.objects.get(pk=chat.pk), by=agent, to_agent=receiver)
            outcomes.append("moved")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=transfer, args=(receiver,)) for receiver in receivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["moved", "refused"]
    assert Ticket.objects.get(pk=chat.pk).assignee in receivers
    assert AuditEntry.objects.filter(action="chat.transfer", target_id=chat.pk).count() == 1


# --- Convert to a ticket -------------------------------------------------------------------------------------------


def test_converting_ends_the_chat_keeps_the_transcript_and_tells_the_user_by_e_mail(agent, user, chat_for):
    chat = chat_for(user, subject="Refund for order 42")
    services.ticket_requester_reply(ticket=chat, body="Any news?")
    mail.outbox = []

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.chat_convert_to_ticket(ticket=chat, by=agent, note="I will ask the billing team.")

    chat.refresh_from_db()
    assert chat.chat_ended_at is not None and chat.is_open and chat.assignee == agent
    told = chat.messages.get(is_automatic=True)
    assert told.kind == TicketMessage.Kind.REPLY and "continuing this conversation by e-mail" in told.body
    assert told.body.endswith("I will ask the billing team.")
    assert chat.messages.filter(body="Any news?").exists()
    # Telling the user where it goes on is no answer: the first-response clock runs on.
    assert chat.first_responded_at is None
    assert chat.clocks.get(metric="ticket.first_response").stopped_at is None
    (sent,) = mail.outbox
    assert sent.to == [user.email] and f"[#{chat.pk}]" in sent.subject and "by e-mail" in sent.body
    assert AuditEntry.objects.get(action="chat.convert", target_id=chat.pk).action_label == "ended the chat as a ticket"


def test_converting_twice_or_after_a_transfer_is_one_decision(agent, colleague, user, manager, chat_for):
    chat = chat_for(user)
    with pytest.raises(services.ChatRefused):
        services.chat_convert_to_ticket(ticket=chat, by=manager)
    services.chat_convert_to_ticket(ticket=chat, by=agent)
    services.chat_convert_to_ticket(ticket=chat, by=colleague)
    assert chat.messages.filter(is_automatic=True).count() == 1
    assert AuditEntry.objects.filter(action="chat.convert").count() == 1
    with pytest.raises(services.ChatEnded):
        services.chat_transfer(ticket=chat, by=agent, to_agent=colleague)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL")
def test_two_agents_converting_one_chat_at_once_end_it_once():
    agents = [make_agent("first@saypro.example"), make_agent("second@saypro.example")]
    with TestCase.captureOnCommitCallbacks(execute=True):
        chat = services.ticket_create(requester=UserFactory(), subject="Hi", body="Hello", channel=Channel.CHAT)
    mail.outbox = []
    barrier = threading.Barrier(2)

    def convert(agent):
        try:
            barrier.wait()
            services.chat_convert_to_ticket(ticket=Ticket.objects.get(pk=chat.pk), by=agent)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert chat.messages.filter(is_automatic=True).count() == 1
    assert AuditEntry.objects.filter(action="chat.convert", target_id=chat.pk).count() == 1
    assert len(mail.outbox) == 1


# --- The queue socket ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_queue_socket_is_for_agents_and_tells_them_when_a_chat_arrives_or_is_answered(agent, user, manager):
    from tests.support.conftest import staff_socket
    from tests.support.test_chat_consumers import run

    desk, refused = staff_socket(agent, "/ws/support/agent/chats/"), staff_socket(manager, "/ws/support/agent/chats/")

    async def scenario():
        from channels.db import database_sync_to_async

        assert await refused.connect() == (False, 4403)
        assert (await desk.connect())[0]
        chat = await database_sync_to_async(services.ticket_create)(
            requester=user, subject="Hello", body="Anyone there?", channel=Channel.CHAT
        )
        assert await desk.receive_json_from() == {"type": "queue"}
        # A ticket that is not a chat does not disturb the panel.
        await database_sync_to_async(services.ticket_create)(
            requester=user, subject="Hello", body="By e-mail", channel=Channel.EMAIL
        )
        await database_sync_to_async(services.ticket_reply)(ticket=chat, by=agent, body="Hi!")
        assert await desk.receive_json_from() == {"type": "queue"}
        assert await desk.receive_nothing(timeout=0.5)
        await desk.disconnect()

    run(scenario)
