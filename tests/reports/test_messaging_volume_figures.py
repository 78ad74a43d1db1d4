"""Messaging's conversations and messages in and out, the times to the team's first answer and the backlog, and the
comments with a topic, read through the figure registry and checked on rows built through the product's own
services against values worked out here in plain Python over the same rows.

Q1 2026, local time (UTC+2):
  A  Mon 9 Feb 09:00  a user writes, again at 10:00; the team answers at 12:00 (3 h); the user writes again on
     Tue 10 Feb 15:00 and is answered 30 h later (Wed 11 Feb 21:00); resolved then: five messages, two clocks.
  D  Tue 3 Mar 10:00  the team writes first; the user answers at 11:00, the team at 13:00 (2 h); resolved.
  C  Tue 31 Mar 20:00 a user writes, never answered: inside its 24 h at 1 Apr 10:00 (pending), past it a week on.
  B  Tue 31 Mar 23:30 a user writes on the quarter's last day; answered and resolved on 1 Apr at 01:00 (1.5 h).
  Q4: E  Sat 20 Dec 09:00 a user writes, answered after 5 h, resolved.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import services
from messaging.models import UNRESOLVED_STATUSES, Conversation, Initiator, Message, MessageKind
from messaging.selectors import FIRST_RESPONSE
from reports.glossary import glossary
from reports.sections import context_for
from reports.sections.messaging import messaging_section
from reports.sections.topics import comment_topics_section
from saypro import periods
from saypro.figures.registry import figure_read, figure_spec
from saypro.sla.models import Clock, ClockState
from support.models import Channel, CommentTopic, Survey, TopicAssignment
from tests.factories import UserFactory
from tests.messaging.conftest import start

from .test_figure_definitions import AFTER_Q1, Q1, Q4, in_span, local, read

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
# Soon after Q1 ended: C, received at 20:00 on its last day, is still inside its 24 h.
SOON_AFTER = local(2026, 4, 1, 10)
APRIL = periods.from_slug("2026-04")
COUNTS = ("messaging.user_messages", "messaging.team_replies", "messaging.inbound", "messaging.outbound")
TIMES = (
    "messaging.conversation_first_response_average",
    "messaging.first_response_median",
    "messaging.first_response_p90",
)
NEW = (*COUNTS, *TIMES, "messaging.backlog", "comment_topics.comments")


@pytest.fixture(autouse=True)
def _rules_only_spam_detection(settings):
    settings.MODERATION_SPAM_CSV = ""


@pytest.fixture
def rows(agent) -> dict[str, Conversation]:
    made: dict[str, Conversation] = {}
    with time_machine.travel(local(2025, 12, 20, 9), tick=False) as clock:
        made["E"] = start(UserFactory(), body="Where is my refund for the ad?")
        clock.move_to(local(2025, 12, 20, 14))
        services.reply_send(conversation=made["E"], by=agent, body="Sent.", then="open")
        services.conversation_resolve(conversation=made["E"], by=agent)

        clock.move_to(local(2026, 2, 9, 9))
        a_user = UserFactory()
        made["A"] = start(a_user, body="My payment failed twice")
        clock.move_to(local(2026, 2, 9, 10))
        services.message_send(conversation=made["A"], user=a_user, body="It still fails.")
        clock.move_to(local(2026, 2, 9, 12))
        services.reply_send(conversation=made["A"], by=agent, body="Try again now.", then="open")
        clock.move_to(local(2026, 2, 10, 15))
        services.message_send(conversation=made["A"], user=a_user, body="It failed again.")
        clock.move_to(local(2026, 2, 11, 21))
        services.reply_send(conversation=made["A"], by=agent, body="Fixed.", then="open")
        services.conversation_resolve(conversation=made["A"], by=agent)

        clock.move_to(local(2026, 3, 3, 10))
        d_user = UserFactory()
        made["D"] = services.conversation_start_by_staff(by=agent, user=d_user, subject="Your ad", body="Renew it?")
        clock.move_to(local(2026, 3, 3, 11))
        services.message_send(conversation=made["D"], user=d_user, body="Yes please.")
        clock.move_to(local(2026, 3, 3, 13))
        services.reply_send(conversation=made["D"], by=agent, body="Renewed.", then="open")
        services.conversation_resolve(conversation=made["D"], by=agent)

        clock.move_to(local(2026, 3, 31, 20))
        made["C"] = start(UserFactory(), body="How do I post a second ad?")
        clock.move_to(local(2026, 3, 31, 23, 30))
        made["B"] = start(UserFactory(), body="Please approve my listing")
        clock.move_to(local(2026, 4, 1, 1))
        services.reply_send(conversation=made["B"], by=agent, body="Approved.", then="open")
        services.conversation_resolve(conversation=made["B"], by=agent)
    # The dimensions, set here so each conversation's is known whatever triage chose.
    for name, category, region in (
        ("A", "support", "Gauteng"),
        ("B", "renewal", "Western Cape"),
        ("C", "general", "Gauteng"),
        ("D", "renewal", "Gauteng"),
        ("E", "support", "Gauteng"),
    ):
        Conversation.objects.filter(pk=made[name].pk).update(category=category, region=region)
    return {name: Conversation.objects.get(pk=c.pk) for name, c in made.items()}


def _selected(conversations, filters) -> list[Conversation]:
    return [
        c
        for c in conversations
        if c.category == filters.get("category", c.category) and c.region == filters.get("region", c.region)
    ]


def expected_counts(period, filters) -> dict[str, int]:
    conversations = _selected(Conversation.objects.all(), filters)
    ids = {c.pk for c in conversations}
    written = [
        m
        for m in Message.objects.all()
        if m.conversation_id in ids and in_span(m.created_at, period.start_at, period.end_at)
    ]
    started = [c for c in conversations if in_span(c.created_at, period.start_at, period.end_at)]
    return {
        "messaging.user_messages": sum(1 for m in written if m.kind == MessageKind.USER),
        "messaging.team_replies": sum(1 for m in written if m.kind == MessageKind.REPLY),
        "messaging.inbound": sum(1 for c in started if c.initiated_by == Initiator.USER),
        "messaging.outbound": sum(1 for c in started if c.initiated_by == Initiator.STAFF),
    }


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def expected_times(period, now: datetime, filters) -> dict[str, object]:
    ids = {c.pk for c in _selected(Conversation.objects.all(), filters)}
    clocks = [
        c
        for c in Clock.objects.filter(
            metric=FIRST_RESPONSE, target_type=ContentType.objects.get_for_model(Conversation)
        )
        if c.target_id in ids and in_span(c.started_at, period.start_at, period.end_at)
    ]
    hours = [c.elapsed_seconds / 3600 for c in clocks if c.state == ClockState.STOPPED]
    running = [c for c in clocks if c.state != ClockState.STOPPED]
    return {
        "n": len(hours),
        "pending": sum(1 for c in running if c.due_at > now),
        "unanswered": sum(1 for c in running if c.due_at <= now),
        "average": sum(hours) / len(hours) if hours else None,
        "median": nearest_rank(hours, 0.5) if hours else None,
        "p90": nearest_rank(hours, 0.9) if hours else None,
    }


FILTERS = [{}, {"category": "renewal"}, {"region": "Gauteng"}, {"region": "Western Cape", "category": "renewal"}]


@pytest.mark.parametrize("filters", FILTERS, ids=["whole", "renewal", "Gauteng", "Western Cape renewal"])
def test_messages_and_conversations_in_and_out_follow_their_definitions(rows, filters):
    for period in (Q1, Q4):
        expected = expected_counts(period, filters)
        for key, value in expected.items():
            reading = read(key, period, **filters).current
            assert (reading.value, reading.n) == (value, value), (key, period, filters)
    # By hand: Q1 has A's three user messages and two replies, the team's opening message of D, D's user answer, C
    # and B (the last day's, whose answer is April's); A, B and C started by users, D by the team.
    assert expected_counts(Q1, {}) == {
        "messaging.user_messages": 6,
        "messaging.team_replies": 4,
        "messaging.inbound": 3,
        "messaging.outbound": 1,
    }
    assert read("messaging.team_replies", APRIL).current.value == 1


@pytest.mark.parametrize("filters", FILTERS, ids=["whole", "renewal", "Gauteng", "Western Cape renewal"])
def test_times_to_a_first_answer_are_placed_by_the_message_received(rows, filters):
    for now in (SOON_AFTER, AFTER_Q1):
        expected = expected_times(Q1, now, filters)
        average, median, p90 = (figure_read(key, Q1, now=now, filters=filters).current for key in TIMES)
        for reading, value in ((average, expected["average"]), (median, expected["median"]), (p90, expected["p90"])):
            assert reading.value == (None if value is None else pytest.approx(value)), (reading, filters)
            assert (reading.n, reading.pending) == (expected["n"], expected["pending"]), (now, filters)
            assert reading.parts["unanswered"] == expected["unanswered"]
    # By hand: A's two clocks (3 h, then 30 h: the user's second message at 10:00 found the clock already
    # running), D's 2 h and B's 1.5 h, B placed in Q1 though answered in April; C pending, then unanswered.
    assert expected_times(Q1, SOON_AFTER, {}) == {
        "n": 4,
        "pending": 1,
        "unanswered": 0,
        "average": pytest.approx((3 + 30 + 2 + 1.5) / 4),
        "median": 2.0,
        "p90": 30.0,
    }
    assert expected_times(Q1, AFTER_Q1, {})["unanswered"] == 1
    # Q4 (the comparison): E's 5 h alone.
    reading = figure_read("messaging.first_response_median", Q1, now=AFTER_Q1)
    assert reading.previous is not None and reading.previous.value == pytest.approx(5.0)


def expected_backlog(at: datetime, filters) -> int:
    return sum(
        1
        for c in _selected(Conversation.objects.all(), filters)
        if c.created_at < at
        and (c.status in UNRESOLVED_STATUSES or (c.resolved_at is not None and c.resolved_at >= at))
    )


@pytest.mark.parametrize("filters", FILTERS, ids=["whole", "renewal", "Gauteng", "Western Cape renewal"])
def test_the_backlog_counts_the_conversations_unresolved_at_the_periods_end(rows, filters):
    quarter = read("messaging.backlog", Q1, now=SOON_AFTER, **filters)
    assert quarter.current.value == expected_backlog(Q1.end_at, filters)
    assert quarter.previous is not None and quarter.previous.value == expected_backlog(Q4.end_at, filters)
    # By hand: B (resolved after midnight) and C were open when Q1 ended; only C is open now.
    assert expected_backlog(Q1.end_at, {}) == 2 and expected_backlog(SOON_AFTER, {}) == 1
    # April, still running: the backlog now, with what it holds.
    now = read("messaging.backlog", APRIL, now=SOON_AFTER, **filters).current
    assert now.value == expected_backlog(SOON_AFTER, filters)
    open_now = [c for c in _selected(Conversation.objects.all(), filters) if c.status in UNRESOLVED_STATUSES]
    assert now.parts["unassigned"] == sum(1 for c in open_now if c.assigned_to_id is None)
    # C's first answer is due at 20:00 and at risk from 14:00 (75 %): neither yet at 10:00, both by 21:00.
    late = read("messaging.backlog", APRIL, now=local(2026, 4, 1, 21), **filters).current
    assert (now.parts["at_risk"], now.parts["breached"]) == (0, 0)
    assert late.parts["breached"] == len(open_now)


def test_the_messaging_section_shows_the_registry_figures_and_its_queries_do_not_grow(rows, agent):
    with CaptureQueriesContext(connection) as few:
        section = messaging_section(context_for(Q1, AFTER_Q1))
    shown = {f.key: f for f in section.figures}
    for key in (*COUNTS, *TIMES, "messaging.backlog"):
        reading = figure_read(key, Q1, now=AFTER_Q1)
        assert reading.previous is not None
        assert (shown[key].value, shown[key].n, shown[key].pending, shown[key].previous) == (
            reading.current.value,
            reading.current.n,
            reading.current.pending,
            reading.previous.value,
        ), key
    assert "6 from users, 4 replies from the team" in section.paragraphs[0]
    with time_machine.travel(local(2026, 2, 16, 9), tick=False) as clock:
        for _ in range(5):
            user = UserFactory()
            busy = start(user, body="My payment failed")
            clock.shift(H)
            services.message_send(conversation=busy, user=user, body="Still failing")
            services.reply_send(conversation=busy, by=agent, body="Fixed.", then="open")
    with CaptureQueriesContext(connection) as many:
        messaging_section(context_for(Q1, AFTER_Q1))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_glossary_defines_the_new_figures():
    defined = dict(glossary())
    for key in NEW:
        spec = figure_spec(key)
        assert defined[spec.label].startswith(spec.definition), key
        assert spec.placed_by in defined[spec.label]


# --- Comments with a topic (document 003) ----------------------------------------------------------------------


def comment(topic: CommentTopic, at: datetime) -> TopicAssignment:
    user = UserFactory()
    survey = Survey.objects.create(
        target_type=ContentType.objects.get_for_model(Conversation),
        target_id=1,
        resolved_at=at,
        requester=user,
        channel=Channel.WEB,
        sent_at=at,
        rating=3,
    )
    return TopicAssignment.objects.create(topic=topic, survey=survey, commented_at=at)


def test_comments_with_a_topic_are_placed_by_the_moment_they_were_given():
    refunds = CommentTopic.objects.create(label="refund slow", terms=["refund", "slow"])
    delivery = CommentTopic.objects.create(label="courier late", terms=["courier"], is_active=False)
    given = [
        comment(refunds, local(2026, 1, 5, 9)),
        comment(refunds, local(2026, 3, 31, 23, 30)),
        comment(delivery, local(2026, 2, 2, 9)),
        comment(delivery, local(2026, 4, 1, 0, 30)),
        comment(refunds, local(2025, 12, 31, 23)),
    ]

    def expected(period):
        inside = [a for a in given if in_span(a.commented_at, period.start_at, period.end_at)]
        return len(inside), len({a.topic_id for a in inside})

    for period in (Q1, Q4, APRIL):
        reading = read("comment_topics.comments", period).current
        assert (reading.value, reading.n, reading.parts["topics"]) == (expected(period)[0], *expected(period)), period
    # By hand: Q1 holds three (the last evening's among them, the retired topic's counted), in two topics.
    assert expected(Q1) == (3, 2)
    section = comment_topics_section(context_for(Q1, AFTER_Q1))
    [figure] = section.figures
    assert (figure.key, figure.value, figure.n, figure.previous) == ("comment_topics.comments", 3, 3, 1)
    assert figure.note == "in 2 topics"
