"""Ticket transitions: SLA policy choice and re-targeting, pausing, time travel over 3 h and 24 h, triage, routing,
merges, reopening and concurrent takes."""

from __future__ import annotations

import threading
from datetime import time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import close_old_connections, connection
from django.test import TestCase

from accounts.models import AgentProfile
from saypro.errors import DomainError, InvalidInput
from saypro.ml.services import text_model_train
from saypro.sla.models import BusinessHours, Calendar, Clock, Policy
from saypro.sla.services import sla_sweep
from support import services
from support.models import (
    FIRST_RESPONSE,
    RESOLUTION,
    Category,
    Channel,
    Department,
    DepartmentTransfer,
    Priority,
    Status,
    SupportPolicy,
    SupportTarget,
    Survey,
    Ticket,
    TriageSource,
)
from support.services import policy_choose
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = "2026-03-02 08:00:00Z"  # a Monday, 10:00 in Johannesburg


def open_clock(ticket, metric):
    return Clock.objects.filter(metric=metric, target_id=ticket.pk).exclude(state="stopped").first()


def last_clock(ticket, metric):
    return Clock.objects.filter(metric=metric, target_id=ticket.pk).latest("started_at", "pk")


# --- Policies ------------------------------------------------------------------------------------------------


def test_the_first_matching_policy_wins_in_position_order(billing):
    chat = policy_choose(priority=Priority.NORMAL, channel=Channel.CHAT, department=None)
    assert chat.support_policy.name == "Live chat and social"
    assert chat.first_response.target == timedelta(minutes=30) and chat.resolution.target == timedelta(hours=24)
    web = policy_choose(priority=Priority.URGENT, channel=Channel.WEB, department=billing)
    assert web.support_policy.name == "Standard" and web.first_response.target == timedelta(hours=1)
    vip = SupportPolicy.objects.create(name="Billing urgent", position=5, priorities=["urgent"])
    vip.departments.add(billing)
    fast = Policy.objects.create(
        metric=FIRST_RESPONSE, name="15 min", target=timedelta(minutes=15), calendar=Calendar.objects.get(name="24/7")
    )
    SupportTarget.objects.create(support_policy=vip, priority="urgent", first_response=fast, resolution=web.resolution)
    assert policy_choose(priority="urgent", channel="web", department=billing).support_policy == vip
    assert policy_choose(priority="urgent", channel="web", department=None).support_policy.name == "Standard"
    assert policy_choose(priority="high", channel="web", department=billing).support_policy.name == "Standard"
    SupportPolicy.objects.update(is_active=False)
    fallback = policy_choose(priority="urgent", channel="web", department=billing)
    assert fallback.support_policy is None and fallback.resolution.is_default


def test_every_default_target_meets_the_promises():
    for target in SupportTarget.objects.select_related("first_response", "resolution"):
        assert target.first_response.target <= timedelta(hours=3)
        assert target.resolution.target <= timedelta(hours=24)


def test_a_priority_change_rechecks_the_policy_and_retargets_the_clocks(user, agent, ticket_for):
    with time_machine.travel(START, tick=False) as traveller:
        ticket = ticket_for(user, department="billing")
        assert open_clock(ticket, RESOLUTION).due_at - ticket.created_at == timedelta(hours=24)
        traveller.shift(timedelta(hours=2))
        services.ticket_set_priority(ticket=ticket, by=agent, priority=Priority.URGENT)
        # 2 h of the new 8 h are used up: 6 h left.
        resolution = open_clock(ticket, RESOLUTION)
        assert resolution.due_at - ticket.created_at == timedelta(hours=8)
        assert resolution.policy.target == timedelta(hours=8)
        first = open_clock(ticket, FIRST_RESPONSE)
        assert first.due_at - ticket.created_at == timedelta(hours=1) and first.breached_at is None
        sla_sweep()
        assert open_clock(ticket, FIRST_RESPONSE).breached_at is not None


def test_a_business_hours_policy_counts_working_time_only(user, billing):
    office = Calendar.objects.create(name="Office", kind="business", time_zone="Africa/Johannesburg")
    for weekday in range(5):
        BusinessHours.objects.create(calendar=office, weekday=weekday, start=time(8), end=time(17))
    policy = SupportPolicy.objects.create(name="Low, office hours", position=1, priorities=["low"])
    SupportTarget.objects.create(
        support_policy=policy,
        priority="low",
        first_response=Policy.objects.create(
            metric=FIRST_RESPONSE, name="3 working h", target=timedelta(hours=3), calendar=office
        ),
        resolution=Policy.objects.create(
            metric=RESOLUTION, name="9 working h", target=timedelta(hours=9), calendar=office
        ),
    )
    with time_machine.travel("2026-03-06 14:00:00Z", tick=False):  # Friday 16:00 local
        ticket = services.ticket_create(requester=user, subject="Invoice", body="Copy?", channel="web", priority="low")
    # One working hour on Friday, then from Monday 08:00: first answer Monday 10:00, resolution Monday 16:00 local.
    assert open_clock(ticket, FIRST_RESPONSE).due_at.isoformat() == "2026-03-09T08:00:00+00:00"
    assert open_clock(ticket, RESOLUTION).due_at.isoformat() == "2026-03-09T14:00:00+00:00"


# --- The lifecycle and time travel ---------------------------------------------------------------------------


def test_a_reply_within_3_hours_meets_the_first_response_and_pending_pauses_resolution(user, agent, ticket_for):
    with time_machine.travel(START, tick=False) as traveller:
        ticket = ticket_for(user, department="billing")
        traveller.shift(timedelta(hours=2, minutes=59))
        services.ticket_reply(ticket=ticket, by=agent, body="Internal: checking", public=False)
        assert open_clock(ticket, FIRST_RESPONSE) is not None, "an internal note is no answer"
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.ticket_reply(ticket=ticket, by=agent, body="Which order?", status=Status.PENDING)
        first = last_clock(ticket, FIRST_RESPONSE)
        assert first.met is True and first.elapsed_seconds == pytest.approx(2 * 3600 + 59 * 60)
        ticket.refresh_from_db()
        assert ticket.status == Status.PENDING and ticket.assignee == agent
        assert mail.outbox[-1].to == [user.email] and "Which order?" in mail.outbox[-1].body
        assert open_clock(ticket, RESOLUTION).state == "paused"
        traveller.shift(timedelta(hours=30))
        sla_sweep()
        assert open_clock(ticket, RESOLUTION).breached_at is None, "paused time does not count"
        services.ticket_requester_reply(ticket=ticket, body="Order SP-12")
        resolution = open_clock(ticket, RESOLUTION)
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN and resolution.state == "running"
        assert resolution.due_at == ticket.created_at + timedelta(hours=24 + 30)
        traveller.shift(timedelta(hours=21))
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
        assert last_clock(ticket, RESOLUTION).met is True
        assert Survey.objects.get().agent == agent


def test_no_answer_within_3_hours_breaches_and_24_hours_breaches_the_resolution(user, agent, ticket_for):
    with time_machine.travel(START, tick=False) as traveller:
        ticket = ticket_for(user, department="billing")
        traveller.shift(timedelta(hours=2, minutes=15))
        sla_sweep()
        assert open_clock(ticket, FIRST_RESPONSE).warned_percent == 75
        traveller.shift(timedelta(minutes=46))
        mail.outbox = []
        with TestCase.captureOnCommitCallbacks(execute=True):
            sla_sweep()
        assert open_clock(ticket, FIRST_RESPONSE).breached_at is not None
        assert any("first response" in m.subject for m in mail.outbox)
        traveller.shift(timedelta(hours=21))
        sla_sweep()
        assert open_clock(ticket, RESOLUTION).breached_at is not None
        services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
        assert last_clock(ticket, RESOLUTION).met is False and last_clock(ticket, FIRST_RESPONSE).met is False


def test_the_requester_reopens_a_solved_ticket_within_the_window_only(user, agent, ticket_for, settings):
    settings.SUPPORT_REOPEN_DAYS = 3
    with time_machine.travel(START, tick=False) as traveller:
        ticket = ticket_for(user, department="orders")
        services.ticket_reply(ticket=ticket, by=agent, body="Done", status=Status.SOLVED)
        traveller.shift(timedelta(days=2))
        services.ticket_requester_reply(ticket=ticket, body="Still missing")
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN and ticket.reopened_count == 1
        assert Clock.objects.filter(metric=RESOLUTION, target_id=ticket.pk).count() == 2
        services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
        traveller.shift(timedelta(days=4))
        with pytest.raises(services.TicketClosed):
            services.ticket_requester_reply(ticket=ticket, body="Again?")
        assert services.tickets_close_solved() == 1
        ticket.refresh_from_db()
        assert ticket.status == Status.CLOSED
        with pytest.raises(DomainError):
            services.ticket_set_status(ticket=ticket, by=agent, status=Status.OPEN)


def test_forbidden_status_changes_and_bad_input_are_refused(user, agent, ticket_for):
    ticket = ticket_for(user)
    with pytest.raises(DomainError):
        services.ticket_set_status(ticket=ticket, by=agent, status=Status.CLOSED)
    with pytest.raises(InvalidInput):
        services.ticket_set_status(ticket=ticket, by=agent, status="archived")
    with pytest.raises(InvalidInput):
        services.ticket_reply(ticket=ticket, by=agent, body="   ")
    with pytest.raises(InvalidInput):
        services.ticket_set_priority(ticket=ticket, by=agent, priority="critical")
    with pytest.raises(InvalidInput):
        services.ticket_set_department(ticket=ticket, by=agent, department="nowhere")


def test_merging_a_duplicate_closes_it_and_keeps_its_text(user, agent, ticket_for):
    original = ticket_for(user, subject="Payout missing", department="billing")
    other_user = UserFactory()
    duplicate = ticket_for(other_user, subject="Payout missing too", body="Same here")
    services.ticket_merge(ticket=duplicate, into=original, by=agent)
    duplicate.refresh_from_db()
    original.refresh_from_db()
    assert duplicate.status == Status.CLOSED and duplicate.merged_into == original
    assert other_user.email in original.cc_emails
    assert "Same here" in original.messages.get().body
    assert open_clock(duplicate, RESOLUTION) is None
    with pytest.raises(DomainError):
        services.ticket_merge(ticket=duplicate, into=original, by=agent) if False else services.ticket_merge(
            ticket=original, into=duplicate, by=agent
        )
    with pytest.raises(InvalidInput):
        services.ticket_merge(ticket=original, into=original, by=agent)


# --- Triage ---------------------------------------------------------------------------------------------------


def test_a_rule_routes_before_the_classifier_and_explains_itself(user, ticket_for):
    ticket = ticket_for(user, subject="App crashes", body="The app crashes when I open my listings.")
    ticket.refresh_from_db()
    assert ticket.department.slug == "technical" and ticket.triage_source == TriageSource.RULE
    assert ticket.category == Category.PLATFORM_ISSUE
    assert services.triage_explanation(ticket) == "Rule “Platform faults” matched."
    hacked = ticket_for(user, subject="Help", body="My account was hacked yesterday")
    hacked.refresh_from_db()
    assert hacked.priority == Priority.URGENT and hacked.department.slug == "accounts"
    assert open_clock(hacked, FIRST_RESPONSE).policy.target == timedelta(hours=1)


@pytest.fixture
def triage_model(db):
    texts = [
        "I want a refund for my payment",
        "I was charged twice on my card",
        "where is my invoice",
        "refund please",
        "payment failed with my card",
        "how do I get my money back",
        "where is my order",
        "my parcel has not arrived",
        "change the delivery address",
        "track my shipment",
        "the order is late",
        "delivery did not come",
    ]
    labels = ["billing"] * 6 + ["orders"] * 6
    return text_model_train(name=services.TRIAGE_MODEL, texts=texts, labels=labels, folds=0)


def test_the_classifier_routes_confident_tickets_and_stores_version_and_confidence(
    user, ticket_for, triage_model, settings
):
    settings.SUPPORT_TRIAGE_MIN_CONFIDENCE = 0.55
    ticket = ticket_for(user, subject="Parcel", body="my parcel has not arrived, where is my order")
    ticket.refresh_from_db()
    assert ticket.department.slug == "orders" and ticket.triage_source == TriageSource.MODEL
    assert ticket.triage_model_version == triage_model.version and ticket.triage_confidence >= 0.55
    assert services.triage_explanation(ticket).startswith(f"Classifier v{triage_model.version}: orders")


def test_low_confidence_goes_to_the_triage_view_and_a_transfer_is_a_label_and_misroute(
    user, agent, ticket_for, triage_model, settings
):
    settings.SUPPORT_TRIAGE_MIN_CONFIDENCE = 0.99
    unsure = ticket_for(user, subject="Hello", body="question about something")
    unsure.refresh_from_db()
    assert unsure.needs_triage and unsure.department is None and unsure.triage_confidence is not None
    services.ticket_set_department(ticket=unsure, by=agent, department="general")
    unsure.refresh_from_db()
    assert not unsure.needs_triage and unsure.triage_source == TriageSource.AGENT
    settings.SUPPORT_TRIAGE_MIN_CONFIDENCE = 0.5
    routed = ticket_for(user, subject="Refund", body="I want a refund for my payment")
    routed.refresh_from_db()
    assert routed.triage_source == TriageSource.MODEL
    services.ticket_set_department(ticket=routed, by=agent, department="orders")
    transfer = DepartmentTransfer.objects.get(ticket=routed)
    assert transfer.corrected_source == TriageSource.MODEL and transfer.to_department.slug == "orders"
    assert "refund" in transfer.text
    # The misroute is recorded on the ticket with the transfer, for the misroute rate to count.
    routed.refresh_from_db()
    assert routed.misrouted_at == transfer.at


def test_without_a_model_a_ticket_no_rule_matches_waits_for_triage(user, ticket_for):
    ticket = ticket_for(user, subject="Question", body="Something odd happened")
    ticket.refresh_from_db()
    assert ticket.needs_triage and ticket.triage_source == TriageSource.NONE


# --- Routing --------------------------------------------------------------------------------------------------


def make_agent(email, *, languages=("en",), regions=(), hours=None, max_open=40):
    from accounts import roles

    person = UserFactory(email=email, roles=[roles.SUPPORT_AGENT])
    AgentProfile.objects.create(
        user=person, languages=list(languages), regions=list(regions), working_hours=hours, max_open_items=max_open
    )
    return person


def test_assignment_goes_to_the_least_loaded_agent_speaking_the_language_and_on_duty(ticket_for):
    night = Calendar.objects.create(name="Night", kind="business", time_zone="Africa/Johannesburg")
    for weekday in range(7):
        BusinessHours.objects.create(calendar=night, weekday=weekday, start=time(22), end=time(23, 59))
    english = make_agent("en@saypro.example")
    zulu = make_agent("zu@saypro.example", languages=("en", "zu"))
    make_agent("zu-night@saypro.example", languages=("zu",), hours=night)
    requester = UserFactory(language="zu")
    with time_machine.travel(START, tick=False):
        first = ticket_for(requester, department="orders")
        second = ticket_for(requester, department="orders")
        english_ticket = ticket_for(UserFactory(language="en"), department="orders")
    assert Ticket.objects.get(pk=first.pk).assignee == zulu
    assert Ticket.objects.get(pk=second.pk).assignee == zulu, "the on-duty Zulu speaker, though loaded"
    assert Ticket.objects.get(pk=english_ticket.pk).assignee == english, "least loaded first"


def test_department_members_are_preferred_and_a_full_desk_leaves_the_ticket_queued(ticket_for, billing):
    member = make_agent("member@saypro.example", max_open=1)
    make_agent("outside@saypro.example")
    billing.members.add(member)
    ticket = ticket_for(UserFactory(), department="billing")
    assert Ticket.objects.get(pk=ticket.pk).assignee == member
    queued = ticket_for(UserFactory(), department="billing")
    assert Ticket.objects.get(pk=queued.pk).assignee is None


def test_a_second_agent_taking_an_assigned_ticket_is_told_who_has_it(user, agent, ticket_for):
    ticket = ticket_for(user, department="general")
    colleague = make_agent("colleague@saypro.example")
    services.ticket_take(ticket=ticket, by=agent)
    with pytest.raises(services.AlreadyTaken) as caught:
        services.ticket_take(ticket=ticket, by=colleague)
    assert agent.get_full_name() in caught.value.message
    services.ticket_assign(ticket=ticket, by=colleague, assignee=colleague, take_over=True)
    assert Ticket.objects.get(pk=ticket.pk).assignee == colleague


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL")
def test_two_agents_taking_one_ticket_at_once_end_with_one_owner():
    from accounts import roles

    first = UserFactory(email="first@saypro.example", roles=[roles.SUPPORT_AGENT])
    second = UserFactory(email="second@saypro.example", roles=[roles.SUPPORT_AGENT])
    ticket = services.ticket_create(
        requester=UserFactory(), subject="Hi", body="Hello", channel="web", department="general"
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take(person):
        try:
            barrier.wait()
            services.ticket_take(ticket=Ticket.objects.get(pk=ticket.pk), by=person)
            outcomes.append("took")
        except services.AlreadyTaken:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=take, args=(person,)) for person in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "took"]
    assert Ticket.objects.get(pk=ticket.pk).assignee in (first, second)
    assert connection.vendor == "postgresql"


def test_the_open_load_counts_open_tickets_per_agent(user, agent, ticket_for):
    from accounts.routing import agent_load

    for _ in range(2):
        services.ticket_take(ticket=ticket_for(user, department="general"), by=agent)
    solved = ticket_for(user, department="general")
    services.ticket_reply(ticket=solved, by=agent, body="Done", status=Status.SOLVED)
    assert agent_load([agent.pk])[agent.pk] == 2


def test_report_an_issue_captures_context_and_keeps_the_end_of_a_long_log(user):
    log = "start\n" + "x" * 9000 + "\nTypeError: boom"
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = services.platform_issue_report(
            requester=user,
            description="Checkout button does nothing",
            page="/checkout",
            app_version="4.2.1",
            device="Android 14",
            transaction_id="T-99",
            log=log,
        )
    ticket.refresh_from_db()
    assert ticket.category == Category.PLATFORM_ISSUE and ticket.channel == Channel.IN_APP
    assert ticket.department == Department.objects.get(slug="technical")
    assert ticket.context["page"] == "/checkout" and ticket.context["transaction_id"] == "T-99"
    assert ticket.context["log"].endswith("TypeError: boom") and len(ticket.context["log"]) == services.CLIENT_LOG_MAX
    assert ticket.context["log_truncated"] is True


def test_live_chat_is_open_from_8_to_22_local_time(settings):
    settings.SUPPORT_LIVE_CHAT_TIME_ZONE = "Africa/Johannesburg"
    with time_machine.travel("2026-03-02 05:59:00Z", tick=False):  # 07:59 local
        closed = services.live_chat_status()
    assert closed["open"] is False and closed["opens_at"].hour == 8
    with time_machine.travel("2026-03-02 06:00:00Z", tick=False):
        assert services.live_chat_status()["open"] is True
    with time_machine.travel("2026-03-02 20:00:00Z", tick=False):  # 22:00 local
        late = services.live_chat_status()
    assert late["open"] is False and late["opens_at"].day == 3


def test_the_beat_closes_solved_tickets_past_the_reopen_window():
    from saypro.celery import app
    from support import tasks

    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert tasks.close_solved_tickets.name in scheduled
