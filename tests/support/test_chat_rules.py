"""Live chat's rules on the user's side: its own first-response clock in minutes, its figures, and what happens
to a chat opened outside the hours or with nobody on shift."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import AgentProfile
from saypro import periods
from saypro.figures.registry import figure_read
from saypro.sla.models import BusinessHours, Calendar, Clock, Policy
from saypro.sla.services import clock_start, clock_stop, sla_sweep
from support import services
from support.models import CHAT_FIRST_RESPONSE, FIRST_RESPONSE, Channel, Priority, Ticket
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TZ = "Africa/Johannesburg"
NOON = datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("UTC"))  # 12:00 in Johannesburg: inside 08:00-22:00
LATE = datetime(2026, 3, 2, 21, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 local: closed


@pytest.fixture(autouse=True)
def _chat_time_zone(settings):
    settings.SUPPORT_LIVE_CHAT_TIME_ZONE = TZ


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def open_chat(user, body="Is my payout stuck?"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = as_user(user).post("/api/v1/support/tickets/", {"body": body, "channel": "chat"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def chat_clocks(ticket_id: int):
    return Clock.objects.filter(metric=CHAT_FIRST_RESPONSE, target_id=ticket_id)


def shift(name: str, start: time, end: time) -> Calendar:
    calendar = Calendar.objects.create(name=name, kind=Calendar.Kind.BUSINESS, time_zone=TZ)
    for weekday in range(7):
        BusinessHours.objects.create(calendar=calendar, weekday=weekday, start=start, end=end)
    return calendar


def test_the_chat_clock_starts_with_the_first_message_and_stops_at_the_agents_first_public_reply(user, agent):
    with time_machine.travel(NOON, tick=False) as traveller:
        body = open_chat(user)
        assert body["chat"] == {"available": True, "reason": "", "opens_at": None, "detail": "Live chat is open."}
        ticket = Ticket.objects.get(pk=body["id"])
        assert ticket.channel == Channel.CHAT
        clock = chat_clocks(ticket.pk).get()
        policy = Policy.objects.get(metric=CHAT_FIRST_RESPONSE, is_default=True)
        assert (clock.started_at, clock.due_at, clock.policy) == (NOON, NOON + timedelta(minutes=2), policy)
        traveller.shift(timedelta(seconds=50))
        services.ticket_reply(ticket=ticket, by=agent, body="Checking with billing", public=False)
        assert chat_clocks(ticket.pk).get().stopped_at is None, "an internal note is no answer"
        traveller.shift(timedelta(seconds=40))
        services.ticket_reply(ticket=ticket, by=agent, body="Hello! Let me look.")
    clock = chat_clocks(ticket.pk).get()
    assert (clock.met, clock.stopped_at, clock.elapsed_seconds) == (True, NOON + timedelta(seconds=90), 90)
    # The ticket's own first-response clock stopped at the same reply.
    assert Clock.objects.get(metric=FIRST_RESPONSE, target_id=ticket.pk).stopped_at == clock.stopped_at


def test_an_unanswered_chat_warns_and_breaches_through_the_kernel_and_an_administrator_edits_its_minutes(user, agent):
    Policy.objects.filter(metric=CHAT_FIRST_RESPONSE, is_default=True).update(target=timedelta(minutes=4))
    with time_machine.travel(NOON, tick=False) as traveller:
        ticket = Ticket.objects.get(pk=open_chat(user)["id"])
        assert chat_clocks(ticket.pk).get().due_at == NOON + timedelta(minutes=4)
        traveller.shift(timedelta(minutes=2, seconds=5))
        mail.outbox = []
        with TestCase.captureOnCommitCallbacks(execute=True):
            sla_sweep()
        assert chat_clocks(ticket.pk).get().warned_percent == 50
        traveller.shift(timedelta(minutes=2))
        with TestCase.captureOnCommitCallbacks(execute=True):
            sla_sweep()
        assert chat_clocks(ticket.pk).get().breached_at is not None
        services.ticket_reply(ticket=ticket, by=agent, body="Sorry for the wait.")
    assert chat_clocks(ticket.pk).get().met is False
    alerts = [m for m in mail.outbox if "live chat first answer" in m.subject]
    assert [m.subject.split(":")[0] for m in alerts] == ["50 % used", "BREACHED"]
    assert all(m.to == [agent.email] for m in alerts)


def test_a_chat_opened_outside_the_hours_becomes_an_email_ticket_and_the_user_is_told_when_chat_opens(user, agent):
    with time_machine.travel(LATE, tick=False):
        body = open_chat(user, body="My listing vanished")
    opens = datetime(2026, 3, 3, 8, tzinfo=ZoneInfo(TZ))
    assert body["chat"]["available"] is False and body["chat"]["reason"] == "closed"
    assert datetime.fromisoformat(body["chat"]["opens_at"]) == opens
    assert "Live chat is closed now" in body["chat"]["detail"] and "by e-mail" in body["chat"]["detail"]
    ticket = Ticket.objects.get(pk=body["id"])
    assert (ticket.channel, ticket.source, ticket.body) == (Channel.EMAIL, "chat:closed", "My listing vanished")
    assert not chat_clocks(ticket.pk).exists()
    # The normal ticket SLA: the standard policy's 3 h for a normal ticket, not live chat's.
    first = Clock.objects.get(metric=FIRST_RESPONSE, target_id=ticket.pk)
    assert first.due_at - first.started_at == timedelta(hours=3)
    (email,) = mail.outbox
    assert email.to == [user.email] and "You wrote to live chat. Live chat is closed now." in email.body
    assert "we answer it by e-mail" in email.body


def test_with_nobody_on_shift_the_chat_becomes_a_ticket_that_says_when_the_first_shift_starts(user, agent):
    AgentProfile.objects.create(user=agent, working_hours=shift("Evenings", time(15), time(21)))
    on_leave = UserFactory(email="away@saypro.example", roles=[roles.SUPPORT_AGENT])
    AgentProfile.objects.create(user=on_leave, is_available=False)
    with time_machine.travel(NOON, tick=False):
        body = open_chat(user)
    assert body["chat"]["reason"] == "no_agent" and "No agent is on shift" in body["chat"]["detail"]
    assert datetime.fromisoformat(body["chat"]["opens_at"]) == datetime(2026, 3, 2, 15, tzinfo=ZoneInfo(TZ))
    ticket = Ticket.objects.get(pk=body["id"])
    assert (ticket.channel, ticket.source) == (Channel.EMAIL, "chat:no_agent")
    assert not chat_clocks(ticket.pk).exists()
    assert "No agent is on shift" in mail.outbox[0].body
    # The evening shift is on: the next chat reaches it.
    with time_machine.travel(NOON + timedelta(hours=5), tick=False):
        assert open_chat(user)["chat"]["available"] is True


def test_with_every_agent_on_leave_no_opening_time_is_promised(user, agent):
    AgentProfile.objects.create(user=agent, is_available=False)
    with time_machine.travel(NOON, tick=False):
        assert services.chat_availability().as_dict()["opens_at"] is None
        assert services.chat_availability().reason == services.NO_AGENT


def test_other_channels_are_filed_as_before_without_a_chat_answer(user):
    response = as_user(user).post("/api/v1/support/tickets/", {"body": "hi", "channel": "web"}, format="json")
    assert response.status_code == 201 and response.json()["chat"] is None


# --- The figures ------------------------------------------------------------------------------------------------

Q1 = periods.from_slug("2026-Q1")
AFTER_Q1 = datetime(2026, 4, 10, 12, tzinfo=ZoneInfo("UTC"))


def chat(opened: datetime, *, answered_after: float | None, priority=Priority.NORMAL) -> Ticket:
    """A chat opened at `opened`, answered after so many minutes (its clock stopped then) or never."""
    ticket = Ticket.objects.create(
        requester=UserFactory(),
        subject="Chat",
        body="Hello?",
        channel=Channel.CHAT,
        priority=priority,
        created_at=opened,
        first_responded_at=None if answered_after is None else opened + timedelta(minutes=answered_after),
    )
    clock_start(metric=CHAT_FIRST_RESPONSE, target=ticket, at=opened)
    if answered_after is not None:
        clock_stop(metric=CHAT_FIRST_RESPONSE, target=ticket, at=ticket.first_responded_at)
    return ticket


def test_the_chat_figures_are_the_share_answered_within_the_policy_and_the_average_minutes():
    jan, feb = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo(TZ)), datetime(2026, 2, 9, 9, tzinfo=ZoneInfo(TZ))
    rows = [
        chat(jan, answered_after=1),
        chat(jan, answered_after=1.5, priority=Priority.HIGH),
        chat(feb, answered_after=5),
        chat(feb, answered_after=None),  # never answered: past its 2 minutes, missed
        # Opened in Q1's last minute, answered in Q2: placed in Q1 by when it opened.
        chat(Q1.end_at - timedelta(minutes=1), answered_after=1.5),
    ]
    # A web ticket and a chat of Q2 are not counted.
    Ticket.objects.create(requester=UserFactory(), subject="x", body="y", channel=Channel.WEB, created_at=jan)
    chat(datetime(2026, 4, 2, 9, tzinfo=ZoneInfo(TZ)), answered_after=1)

    q1 = [t for t in Ticket.objects.filter(channel=Channel.CHAT) if Q1.start_at <= t.created_at < Q1.end_at]
    limit = timedelta(minutes=2)
    answered = [t for t in q1 if t.first_responded_at is not None]
    met = [t for t in answered if t.first_responded_at - t.created_at <= limit]
    share = figure_read("support.chat_first_response", Q1, now=AFTER_Q1).current
    assert (share.value, share.n, share.pending) == (pytest.approx(100 * len(met) / len(q1)), len(q1), 0)
    assert share.target == 90 and share.met is False
    average = figure_read("support.chat_first_response_minutes", Q1, now=AFTER_Q1).current
    minutes = [(t.first_responded_at - t.created_at) / timedelta(minutes=1) for t in answered]
    assert (average.value, average.n, average.pending) == (pytest.approx(sum(minutes) / len(minutes)), 4, 1)
    assert len(q1) == len(rows) == 5
    high = figure_read("support.chat_first_response", Q1, now=AFTER_Q1, filters={"priority": Priority.HIGH}).current
    assert (high.value, high.n) == (100.0, 1)


def test_a_chat_still_inside_its_minutes_is_pending():
    opened = datetime(2026, 4, 10, 11, 59, tzinfo=ZoneInfo("UTC"))
    chat(opened, answered_after=None)
    current = figure_read("support.chat_first_response", periods.from_slug("2026-Q2"), now=AFTER_Q1).current
    assert (current.value, current.n, current.pending) == (None, 0, 1)


def test_deciding_whether_someone_is_on_shift_costs_the_same_few_queries_for_any_team(
    user, django_assert_max_num_queries
):
    evenings = shift("Late", time(15), time(21))
    for n in range(12):
        agent = UserFactory(email=f"agent{n}@saypro.example", roles=[roles.SUPPORT_AGENT])
        AgentProfile.objects.create(user=agent, working_hours=evenings)
    with time_machine.travel(NOON, tick=False), django_assert_max_num_queries(4):
        availability = services.chat_availability()
    assert availability.reason == services.NO_AGENT
    assert availability.opens_at == datetime(2026, 3, 2, 15, tzinfo=ZoneInfo(TZ))
