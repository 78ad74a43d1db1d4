"""The contracts other apps build on: ticket_create, macros and their rendering, satisfaction surveys."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase

from saypro.errors import InvalidInput
from saypro.sla.models import Clock
from support import services
from support.models import (
    FIRST_RESPONSE,
    RESOLUTION,
    Channel,
    Department,
    Macro,
    PointsEntry,
    Priority,
    Status,
    Survey,
    SurveyFollowUp,
    Ticket,
    TriageSource,
)
from support.selectors import macros_usable
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def clocks_of(ticket):
    return {c.metric: c for c in Clock.objects.filter(target_id=ticket.pk, metric__startswith="ticket.")}


# --- ticket_create ------------------------------------------------------------------------------------------


def test_converting_a_conversation_creates_a_ticket_with_both_clocks(user, agent, ticket_for, billing):
    ticket = ticket_for(
        user,
        subject="Refund for a cancelled order",
        body="The seller cancelled and I was still charged.",
        channel=Channel.CONVERSATION,
        by=agent,
        department="billing",
        priority=Priority.HIGH,
        context={"conversation_id": 42},
        source="conversation:42",
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and ticket.channel == "conversation"
    assert ticket.department == billing and ticket.triage_source == TriageSource.CALLER
    assert ticket.context == {"conversation_id": 42} and ticket.source == "conversation:42"
    clocks = clocks_of(ticket)
    assert clocks[FIRST_RESPONSE].due_at - clocks[FIRST_RESPONSE].started_at == timedelta(hours=2)
    assert clocks[RESOLUTION].due_at - clocks[RESOLUTION].started_at == timedelta(hours=16)
    assert mail.outbox[-1].to == [user.email] and f"#{ticket.pk}" in mail.outbox[-1].subject


def test_ticket_create_refuses_bad_input_with_field_messages(user):
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create(requester=user, subject="x" * 201, body="", channel="fax", priority="meh")
    assert set(caught.value.fields) == {"body", "subject", "channel", "priority"}
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create(requester=user, subject="Hi", body="Hello", channel="web", department="nope")
    assert "department" in caught.value.fields
    with pytest.raises(InvalidInput):
        services.ticket_create(requester=user, subject="Hi", body="Hello", channel="web", cc=["not-an-address"])
    assert not Ticket.objects.exists()


def test_a_ticket_without_subject_takes_the_first_line_of_its_body(user, ticket_for):
    ticket = ticket_for(user, subject="", body="Chat: where is my parcel?\nOrdered on Monday.", channel=Channel.CHAT)
    assert ticket.subject == "Chat: where is my parcel?"


# --- Macros --------------------------------------------------------------------------------------------------


def test_macros_usable_on_a_ticket_are_its_departments_and_the_shared_ones(billing):
    orders = Department.objects.get(slug="orders")
    names = set(macros_usable(surface="ticket", department=billing).values_list("name", flat=True))
    assert "Refund timeline" in names and "Greeting" in names
    assert "Ask for the order number" not in names
    assert "Ask for the order number" in set(
        macros_usable(surface="ticket", department=orders).values_list("name", flat=True)
    )


def test_macros_usable_in_conversations_are_only_those_marked_so():
    names = set(macros_usable(surface="conversation").values_list("name", flat=True))
    assert "Greeting" in names and "Refund timeline" not in names
    Macro.objects.filter(name="Greeting").update(is_active=False)
    assert "Greeting" not in set(macros_usable(surface="conversation").values_list("name", flat=True))
    with pytest.raises(ValueError):
        macros_usable(surface="sms")


def test_macro_render_fills_known_placeholders_and_leaves_unknown_ones_visible():
    macro = Macro(
        body="Hi {{ requester_name }}, order {{order.id}} is {{ order.state }}; {{ mystery }} {{ requester_name }}"
    )
    context = {"requester_name": "Thandi", "order": {"id": "SP-1", "state": None}}
    result = services.macro_render_checked(macro=macro, context=context)
    assert result.text == "Hi Thandi, order SP-1 is {{ order.state }}; {{ mystery }} Thandi"
    assert result.unknown == ("order.state", "mystery")
    assert services.macro_render(macro=macro, context=context) == result.text


def test_macro_render_never_reaches_attributes_or_crashes():
    macro = Macro(body="{{ user.password }} {{ requester_name.upper }} {{ }} {{ 1bad }} {{ x")
    text = services.macro_render(macro=macro, context={"user": UserFactory.build(), "requester_name": "Sam"})
    assert text == "{{ user.password }} {{ requester_name.upper }} {{ }} {{ 1bad }} {{ x"


# --- Surveys -------------------------------------------------------------------------------------------------


def send_survey(ticket, agent, **options):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.survey_send(
            target=ticket,
            requester=ticket.requester,
            agent=agent,
            department=ticket.department,
            channel=ticket.channel,
            **options,
        )


def token_from(message) -> tuple[str, list[str]]:
    import re

    links = re.findall(r"/survey/([^/\s]+)/(\d)/", message.body)
    return links[0][0], [rating for _, rating in links]


def test_survey_email_has_one_click_links_and_the_rating_credits_points_once(user, agent, ticket_for, billing):
    ticket = ticket_for(user, department=billing)
    survey = send_survey(ticket, agent)
    assert survey.agent == agent and survey.department == billing and survey.channel == "web"
    token, ratings = token_from(mail.outbox[-1])
    assert ratings == ["5", "4", "3", "2", "1"]
    services.survey_answer(token=token, rating=5)
    services.survey_answer(token=token, rating=4, comment="Quick and kind.")
    survey.refresh_from_db()
    assert survey.rating == 4 and survey.comment == "Quick and kind." and survey.changed_at is not None
    assert list(PointsEntry.objects.values_list("user", "points")) == [(user.pk, 10)]
    assert not SurveyFollowUp.objects.exists()


def test_one_survey_per_resolution(user, agent, ticket_for):
    ticket = ticket_for(user)
    resolved = ticket.created_at + timedelta(hours=2)
    first = send_survey(ticket, agent, resolved_at=resolved)
    again = send_survey(ticket, agent, resolved_at=resolved)
    assert first.pk == again.pk and len([m for m in mail.outbox if "rate" in m.subject.lower()]) == 1
    later = send_survey(ticket, agent, resolved_at=resolved + timedelta(days=1))
    assert later.pk != first.pk and Survey.objects.count() == 2


def test_a_low_rating_opens_a_follow_up_for_the_team_lead(user, agent, ticket_for, billing, manager):
    billing.team_lead = manager
    billing.save()
    ticket = ticket_for(user, department=billing)
    send_survey(ticket, agent)
    token, _ = token_from(mail.outbox[-1])
    with TestCase.captureOnCommitCallbacks(execute=True):
        survey = services.survey_answer(token=token, rating=2)
    follow_up = SurveyFollowUp.objects.get(survey=survey)
    assert follow_up.assigned_to == manager and follow_up.done_at is None
    assert mail.outbox[-1].to == [manager.email] and "2/5" in mail.outbox[-1].subject
    services.survey_answer(token=token, rating=1)
    assert SurveyFollowUp.objects.count() == 1


def test_forged_and_altered_survey_links_are_refused(user, agent, ticket_for):
    send_survey(ticket_for(user), agent)
    token, _ = token_from(mail.outbox[-1])
    for bad in ("forged", token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "eyJzIjo5OTk5OX0:abc:def"):
        with pytest.raises(InvalidInput) as caught:
            services.survey_answer(token=bad, rating=5)
        assert caught.value.code == "invalid_token"
    assert not Survey.objects.filter(rating__isnull=False).exists()


def test_expired_links_and_ratings_past_the_change_window_are_refused(user, agent, ticket_for):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False) as traveller:
        send_survey(ticket_for(user), agent)
        token, _ = token_from(mail.outbox[-1])
        traveller.shift(timedelta(days=1))
        services.survey_answer(token=token, rating=3)
        traveller.shift(timedelta(days=8))
        with pytest.raises(services.SurveyLocked):
            services.survey_answer(token=token, rating=5)
        traveller.shift(timedelta(days=6))
        with pytest.raises(InvalidInput) as caught:
            services.survey_answer(token=token, rating=5)
        assert caught.value.code == "expired_token"
    assert Survey.objects.get().rating == 3 and PointsEntry.objects.count() == 1


def test_a_rating_outside_1_to_5_is_refused(user, agent, ticket_for):
    send_survey(ticket_for(user), agent)
    token, _ = token_from(mail.outbox[-1])
    with pytest.raises(InvalidInput):
        services.survey_answer(token=token, rating=6)
    with pytest.raises(InvalidInput):
        services.survey_answer(token=token, comment="no rating yet")
