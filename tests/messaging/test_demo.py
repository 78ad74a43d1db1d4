"""The messaging demo phase: a quarter of conversations whose rows agree with what the product would write."""

from __future__ import annotations

import random
from datetime import date

import pytest

from demo import core as demo
from demo.messaging import Simulator, agents_ensure
from messaging import selectors
from messaging.models import Category, Conversation, Initiator, Message, MessageKind, Status
from saypro.sla.models import Clock, ClockState
from tests.messaging.conftest import flush_committed_data

END = date(2025, 7, 1)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seeded quarter shared by the tests of this module (seeding is the slow part)."""
    with django_db_blocker.unblock():
        ctx = demo.seed(users=3000, seed=5, end=END, phases=[demo.SIGNUPS, "demo.messaging.messaging_phase"])
        yield ctx
        flush_committed_data()


pytestmark = pytest.mark.django_db


def test_the_quarter_has_inbound_and_outbound_conversations_near_the_target_mix(seeded):
    period = seeded.period
    inbound = Conversation.objects.filter(initiated_by=Initiator.USER).count()
    outbound = Conversation.objects.filter(initiated_by=Initiator.STAFF).count()
    assert 400 <= inbound <= 620 and 0.05 <= outbound / inbound <= 0.2
    assert not Conversation.objects.filter(created_at__lt=period.start).exists()
    assert not Conversation.objects.filter(created_at__gte=period.end).exists()
    mix = {group.key: group for group in selectors.category_mix(start=period.start, end=period.end).groups}
    for key, group in mix.items():
        assert abs(group.share - group.target_share) < 0.06, key


def test_first_responses_are_mostly_within_24_hours_with_some_breaches(seeded):
    period = seeded.period
    compliance = selectors.first_response_compliance(start=period.start, end=period.end, now=period.end)
    assert compliance.breached > 0
    assert 0.8 <= compliance.rate <= 0.98


def test_clocks_agree_with_the_conversations(seeded):
    resolved = Conversation.objects.filter(status=Status.RESOLVED)
    assert resolved.exists()
    open_clocks = Clock.objects.exclude(state=ClockState.STOPPED)
    # A resolved conversation has no open clock; one waiting for an answer has a running first-response clock.
    assert not open_clocks.filter(target_id__in=resolved.values("pk")).exists()
    awaiting = Conversation.objects.filter(awaiting_reply_since__isnull=False)
    running = open_clocks.filter(metric="message.first_response", state=ClockState.RUNNING)
    assert set(awaiting.values_list("pk", flat=True)) == set(running.values_list("target_id", flat=True))
    waiting = Conversation.objects.filter(status=Status.WAITING, initiated_by=Initiator.USER)
    paused = open_clocks.filter(metric="message.resolution", state=ClockState.PAUSED)
    assert set(waiting.values_list("pk", flat=True)) <= set(paused.values_list("target_id", flat=True))
    # Every user-initiated conversation got the automatic acknowledgement.
    assert (
        Message.objects.filter(kind=MessageKind.AUTO).count()
        == Conversation.objects.filter(initiated_by=Initiator.USER).count()
    )


def test_unresolved_complaints_past_48_hours_are_escalated(seeded):
    late = Conversation.objects.filter(
        category__in=[Category.COMPLAINT, Category.POLICY],
        clocks__metric="message.resolution",
        clocks__breached_at__isnull=False,
    )
    assert late.exists()
    assert not late.filter(escalated_at__isnull=True).exists()


def test_the_same_seed_gives_the_same_conversations(seeded):
    runs = []
    for _ in range(2):
        seeded.rng = random.Random("5:demo.messaging.messaging_phase")
        scripts = Simulator(seeded, agents=agents_ensure()).run(60, 6)
        runs.append([(s.started_at, s.category, s.status, len(s.messages)) for s in scripts])
    assert len(runs[0]) > 50 and runs[0] == runs[1]
