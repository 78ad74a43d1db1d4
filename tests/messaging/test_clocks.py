"""The two clocks of a conversation through every transition, and what happens at 24 h and 48 h."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from messaging import services
from messaging.models import Category, MessageKind, Status, Team
from saypro.sla.models import ClockEvent
from saypro.sla.services import sla_sweep
from tests.factories import UserFactory
from tests.messaging.conftest import clock, on_team, start

pytestmark = pytest.mark.django_db

FIRST, RESOLUTION = services.FIRST_RESPONSE, services.RESOLUTION
T0 = "2026-03-02 08:00:00Z"


def at(hours: float) -> time_machine.travel:
    from datetime import UTC, datetime

    return time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(hours=hours), tick=False)


def test_a_user_message_starts_both_clocks_and_the_acknowledgement_does_not_stop_the_first(user):
    with at(0):
        conversation = start(user, body="Where can I see the status of my order?")
    first = clock(conversation, FIRST)
    assert first.state == "running" and first.due_at - first.started_at == timedelta(hours=24)
    resolution = clock(conversation, RESOLUTION)
    # Not categorised yet (no classifier, no rule): measured as a general inquiry, 48 h.
    assert conversation.category == ""
    assert resolution.state == "running" and resolution.due_at - resolution.started_at == timedelta(hours=48)
    kinds = list(conversation.messages.order_by("pk").values_list("kind", flat=True))
    assert kinds[:2] == [MessageKind.USER, MessageKind.AUTO]
    acknowledgement = conversation.messages.get(kind=MessageKind.AUTO)
    assert "within 24 hours" in acknowledgement.body
    assert conversation.awaiting_reply_since is not None and conversation.first_response_at is None


def test_a_human_reply_stops_the_first_response_clock_met_and_waiting_pauses_resolution(user, agent):
    with at(0):
        conversation = start(user)
    with at(5):
        services.reply_send(conversation=conversation, by=agent, body="Open the ad and tap Edit photos.")
    conversation.refresh_from_db()
    first = clock(conversation, FIRST)
    assert first.state == "stopped" and first.met is True and first.elapsed_seconds == 5 * 3600
    assert conversation.status == Status.WAITING and conversation.first_response_at is not None
    assert clock(conversation, RESOLUTION).state == "paused"
    # Whoever answers an unassigned conversation owns it.
    assert conversation.assigned_to == agent


def test_the_users_answer_resumes_resolution_and_starts_a_new_wait_for_an_answer(user, agent):
    with at(0):
        conversation = start(user)
    with at(5):
        services.reply_send(conversation=conversation, by=agent, body="Which ad do you mean?")
    with at(29):
        services.message_send(conversation=conversation, user=user, body="The red bicycle, ad 4411.")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    resolution = clock(conversation, RESOLUTION)
    # 24 hours waiting on the user do not count: 48 h target, 5 h used before the pause.
    assert resolution.state == "running"
    assert resolution.due_at == resolution.started_at + timedelta(hours=48 + 24)
    second_wait = clock(conversation, FIRST)
    assert second_wait.state == "running" and second_wait.started_at == resolution.started_at + timedelta(hours=29)


def test_an_internal_note_answers_nothing_and_the_user_never_sees_it(user, agent):
    conversation = start(user)
    services.note_add(conversation=conversation, by=agent, body="Probably a duplicate of #12.")
    assert clock(conversation, FIRST).state == "running"
    from messaging.selectors import thread

    assert "Probably a duplicate of #12." not in [m.body for m in thread(conversation=conversation, staff=False)]
    assert "Probably a duplicate of #12." in [m.body for m in thread(conversation=conversation, staff=True)]


def test_first_response_warns_the_assignee_at_18_hours_and_breaches_at_24_with_the_administrators(
    user, agent, administrator, django_capture_on_commit_callbacks
):
    on_team(agent, Team.GENERAL)
    with at(0):
        conversation = start(user)
    assert conversation.assigned_to == agent
    mail.outbox = []
    with at(17.9), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    assert mail.outbox == []
    with at(18), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "75 % of the answer time used" in mail.outbox[0].subject
    with at(24), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
        sla_sweep()  # a second run changes nothing
    assert clock(conversation, FIRST).breached_at is not None
    breach = mail.outbox[-1]
    assert "answer deadline breached" in breach.subject and sorted(breach.to) == sorted(
        [agent.email, administrator.email]
    )
    with at(30):
        services.reply_send(conversation=conversation, by=agent, body="Sorry for the wait.")
    assert clock(conversation, FIRST).met is False


def test_an_unresolved_complaint_escalates_to_the_classified_office_at_48_hours(
    user, agent, django_capture_on_commit_callbacks
):
    office = UserFactory(email="office@saypro.example", full_name="Office Agent", roles=["Support agent"])
    on_team(office, Team.CLASSIFIED_OFFICE)
    with at(0):
        conversation = start(user, body="I want to file a complaint about a seller who never delivered.")
    assert conversation.category == Category.COMPLAINT
    assert conversation.team == Team.CLASSIFIED_OFFICE and conversation.assigned_to == office
    with at(2):
        services.reply_send(conversation=conversation, by=office, body="We are looking into it.", then="open")
    with at(47.9), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    mail.outbox = []
    with at(48), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    conversation.refresh_from_db()
    assert conversation.status == Status.ESCALATED and conversation.escalated_at is not None
    assert "unresolved after 48 hours" in conversation.escalation_reason
    assert any("Escalated to the Classified Office" in m.subject for m in mail.outbox)
    assert ClockEvent.objects.filter(clock__target_id=conversation.pk, kind="breach").count() == 1
    assert agent.email not in [address for m in mail.outbox for address in m.to]


def test_a_support_request_is_not_late_at_48_hours(user, agent, django_capture_on_commit_callbacks):
    with at(0):
        conversation = start(user)
    services.conversation_categorise(conversation=conversation, by=agent, category=Category.SUPPORT)
    with at(2):
        services.reply_send(conversation=conversation, by=agent, body="Checking.", then="open")
    with at(48), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    resolution = clock(conversation, RESOLUTION)
    assert resolution.breached_at is None and resolution.due_at == resolution.started_at + timedelta(hours=72)
    with at(71):
        services.conversation_resolve(conversation=conversation, by=agent)
    assert clock(conversation, RESOLUTION).met is True


def test_resolving_stops_both_clocks_and_reopening_starts_a_new_resolution_clock(user, agent):
    with at(0):
        conversation = start(user)
    with at(3):
        services.conversation_resolve(conversation=conversation, by=agent, note="Answered by phone.")
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_by == agent
    assert clock(conversation, FIRST).state == "stopped"
    first_resolution = clock(conversation, RESOLUTION)
    assert first_resolution.state == "stopped" and first_resolution.met is True
    with at(10):
        services.conversation_reopen(conversation=conversation, by=agent)
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    reopened = clock(conversation, RESOLUTION)
    assert reopened.pk != first_resolution.pk and reopened.state == "running"


def test_a_new_user_message_reopens_a_resolved_conversation(user, agent):
    with at(0):
        conversation = start(user)
    with at(1):
        services.reply_send(conversation=conversation, by=agent, body="Done.", then="resolved")
    with at(30):
        services.message_send(conversation=conversation, user=user, body="It happened again.")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.resolved_at is None
    assert clock(conversation, FIRST).state == "running"
    assert clock(conversation, RESOLUTION).state == "running"


def test_a_conversation_waiting_on_the_user_for_a_week_is_resolved_automatically(user, agent):
    with at(0):
        conversation = start(user)
    with at(1):
        services.reply_send(conversation=conversation, by=agent, body="Please send the ad number.")
    with at(1 + 24 * 6.9):
        assert services.conversations_auto_resolve() == 0
    with at(1 + 24 * 7):
        assert services.conversations_auto_resolve() == 1
        assert services.conversations_auto_resolve() == 0
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.resolved_by is None
    assert clock(conversation, RESOLUTION).met is True


def test_an_outbound_conversation_runs_no_clock_until_the_user_answers(user, agent):
    with at(0):
        conversation = services.conversation_start_by_staff(
            by=agent, user=user, subject="Your ad was paused", body="Your ad needs a clearer photo.", category="policy"
        )
    assert conversation.status == Status.WAITING and not conversation.clocks.exists()
    with at(5):
        services.message_send(conversation=conversation, user=user, body="Uploaded a new photo.")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert clock(conversation, FIRST).state == "running"
    resolution = clock(conversation, RESOLUTION)
    assert resolution.due_at - resolution.started_at == timedelta(hours=48)
