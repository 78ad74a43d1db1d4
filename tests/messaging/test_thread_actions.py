"""The thread page's actions as an agent uses them: escalate, resolve, reopen, convert to a ticket, and the panel
about the user (their other conversations and account status)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.services import account_deactivate
from messaging import services
from messaging.models import MessageKind, Status, Team
from support.models import Ticket
from tests.factories import PASSWORD, UserFactory
from tests.messaging.conftest import clock, start

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def thread_url(conversation) -> str:
    return reverse("messaging:thread", args=[conversation.pk])


def test_an_agent_escalates_from_the_thread_page_and_the_office_hears_of_it(
    client, user, agent, administrator, django_capture_on_commit_callbacks
):
    conversation = start(user, body="The seller threatened me on the phone")
    signed_in(client, agent)
    page = client.get(thread_url(conversation))
    assert reverse("messaging:escalate", args=[conversation.pk]).encode() in page.content
    # A reason is required: the form says so and nothing changes.
    refused = client.post(reverse("messaging:escalate", args=[conversation.pk]), {"reason": ""})
    assert refused.status_code == 400 and refused.context["escalate_form"].errors["reason"]
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:escalate", args=[conversation.pk]), {"reason": "Threats of violence"})
    assert response.status_code == 302 and response["Location"] == thread_url(conversation)
    conversation.refresh_from_db()
    assert conversation.status == Status.ESCALATED and conversation.team == Team.CLASSIFIED_OFFICE
    assert conversation.escalation_reason == "Threats of violence" and conversation.escalated_at is not None
    event = conversation.messages.filter(kind=MessageKind.EVENT).latest("pk")
    assert event.body == "Escalated to the Classified Office: Threats of violence" and event.author == agent
    # Without an office team, the administrators are told.
    assert [m.to for m in mail.outbox] == [[administrator.email]]
    after = client.get(thread_url(conversation))
    assert "Escalated to the Classified Office." in after.content.decode()
    assert b"Threats of violence" in after.content
    # Escalated already: the page offers no second escalation.
    assert reverse("messaging:escalate", args=[conversation.pk]).encode() not in after.content


def test_escalating_a_conversation_waiting_on_the_user_resumes_its_resolution_clock(client, user, agent):
    started = timezone.now()
    with time_machine.travel(started, tick=False):
        conversation = start(user)
    with time_machine.travel(started + timedelta(hours=2), tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Which ad?", then="waiting")
    paused = clock(conversation, services.RESOLUTION)
    assert paused.state == "paused" and paused.remaining_seconds == 46 * 3600
    signed_in(client, agent)
    with time_machine.travel(started + timedelta(hours=10), tick=False):
        response = client.post(reverse("messaging:escalate", args=[conversation.pk]), {"reason": "Legal threat"})
    assert response.status_code == 302
    resolution = clock(conversation, services.RESOLUTION)
    # Running again, with the 46 hours that were left when the wait began: 8 hours of waiting do not count.
    assert resolution.pk == paused.pk and resolution.state == "running"
    assert resolution.paused_seconds == 8 * 3600
    assert resolution.due_at == started + timedelta(hours=10 + 46)
    conversation.refresh_from_db()
    assert conversation.status == Status.ESCALATED
    # The first answer was given before the wait: that clock stays stopped and met.
    first = clock(conversation, services.FIRST_RESPONSE)
    assert first.state == "stopped" and first.met


def test_resolving_from_the_page_stops_the_clocks_and_reopening_starts_a_new_resolution(client, user, agent):
    started = timezone.now()
    with time_machine.travel(started, tick=False):
        conversation = start(user)
    with time_machine.travel(started + timedelta(hours=2), tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Which ad?", then="waiting")
    signed_in(client, agent)
    # Three days waiting on the user, past the 48-hour target: the wait does not count against the team.
    with time_machine.travel(started + timedelta(hours=74), tick=False):
        response = client.post(reverse("messaging:resolve", args=[conversation.pk]), {"note": "Sorted by phone"})
    assert response.status_code == 302 and response["Location"] == thread_url(conversation)
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_by == agent
    resolution = clock(conversation, services.RESOLUTION)
    assert resolution.state == "stopped" and resolution.met
    assert resolution.elapsed_seconds == 2 * 3600
    assert conversation.messages.filter(kind=MessageKind.EVENT, body__endswith="Sorted by phone").exists()
    page = client.get(thread_url(conversation))
    content = page.content.decode()
    assert "Resolved. The user will be asked to rate the answer." in content
    assert 'data-testid="reply-box"' not in content
    assert reverse("messaging:reopen", args=[conversation.pk]) in content
    assert reverse("messaging:resolve", args=[conversation.pk]) not in content

    with time_machine.travel(started + timedelta(hours=80), tick=False):
        response = client.post(reverse("messaging:reopen", args=[conversation.pk]))
    assert response.status_code == 302 and response["Location"] == thread_url(conversation)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.resolved_at is None
    reopened = clock(conversation, services.RESOLUTION)
    assert reopened.pk != resolution.pk and reopened.state == "running"
    assert reopened.due_at == started + timedelta(hours=80 + 48)
    page = client.get(thread_url(conversation))
    assert 'data-testid="reply-box"' in page.content.decode()
    assert "Reopened: a new resolution deadline is running." in page.content.decode()
    # Reopening an open conversation changes nothing.
    client.post(reverse("messaging:reopen", args=[conversation.pk]))
    assert clock(conversation, services.RESOLUTION).pk == reopened.pk


def test_a_resolution_without_the_reply_role_is_refused(client, user, moderator):
    conversation = start(user)
    signed_in(client, moderator)
    for action in ("resolve", "reopen", "convert"):
        assert client.post(reverse(f"messaging:{action}", args=[conversation.pk])).status_code == 403
    assert client.post(reverse("messaging:escalate", args=[conversation.pk]), {"reason": "x"}).status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.ticket_ref == ""


def test_converting_from_the_page_opens_the_ticket_and_a_second_conversion_is_refused(client, user, agent):
    conversation = start(user, body="The app crashes when I upload photos")
    signed_in(client, agent)
    response = client.post(reverse("messaging:convert", args=[conversation.pk]))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("support:ticket", args=[ticket.pk])
    assert ticket.requester == user and "The app crashes" in ticket.body
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.ticket_ref == str(ticket.pk)
    page = client.get(thread_url(conversation))
    content = page.content.decode()
    assert f"Converted to support ticket #{ticket.pk}; this conversation is resolved." in content
    assert reverse("messaging:convert", args=[conversation.pk]) not in content
    again = client.post(reverse("messaging:convert", args=[conversation.pk]), follow=True)
    assert again.redirect_chain == [(thread_url(conversation), 302)]
    assert f"Already converted to ticket #{ticket.pk}." in again.content.decode()
    assert Ticket.objects.count() == 1
    assert client.post(reverse("messaging:convert", args=[999999])).status_code == 404


def test_the_thread_shows_the_users_other_conversations_and_account_status(client, user, member, agent):
    older = start(user, subject="Payout for the red bicycle")
    services.conversation_resolve(conversation=older, by=agent)
    other = start(user, subject="Photos of my ad")
    current = start(user, subject="Renewing my listing soon")
    start(member, subject="Someone else's question")
    signed_in(client, agent)
    page = client.get(thread_url(current))
    assert page.status_code == 200
    assert [c.pk for c in page.context["other_conversations"]] == [other.pk, older.pk]
    panel = page.content.decode().split('data-testid="other-conversations"')[1].split("</ul>")[0]
    assert thread_url(other) in panel and thread_url(older) in panel
    assert "Photos of my ad" in panel and "Resolved" in panel
    assert thread_url(current) not in panel and "Someone else" not in panel
    account = page.context["account"]
    assert account["is_active"] and not account["email_verified"]
    assert '<span class="pill pill-ok">active</span>' in page.content.decode()

    account_deactivate(user=user, reason="Taking a break")
    page = client.get(thread_url(current))
    assert '<span class="pill pill-bad">deactivated</span>' in page.content.decode()

    lonely = start(UserFactory(), subject="Only one")
    page = client.get(thread_url(lonely))
    assert page.context["other_conversations"] == []
    assert 'data-testid="other-conversations"' not in page.content.decode()
