"""The inbox's order comes from one sort key the clock services keep on each conversation, read from an index."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from messaging import selectors, services
from messaging.models import Conversation, Status
from saypro.paginators import QUEUE_COUNT_CAP
from saypro.sla.models import Clock, ClockState
from tests.factories import PASSWORD, UserFactory
from tests.messaging.conftest import start

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Africa/Johannesburg")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=LOCAL)


def arrives(moment: datetime, subject: str) -> Conversation:
    with time_machine.travel(moment, tick=False):
        return start(UserFactory(), subject=subject)


def running_due(conversation: Conversation, metric: str) -> datetime | None:
    clock = Clock.objects.filter(metric=metric, target_id=conversation.pk, state=ClockState.RUNNING).first()
    return clock.due_at if clock else None


def subjects(rows) -> list[str]:
    return [row.subject for row in rows]


def test_the_sort_key_follows_the_clocks_as_the_conversation_is_answered_paused_resumed_and_resolved(agent):
    conversation = arrives(NOW - timedelta(hours=2), "A")
    # Owed an answer: the first-response deadline.
    assert conversation.next_due_at == running_due(conversation, selectors.FIRST_RESPONSE)
    with time_machine.travel(NOW, tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Which ad?", then=Status.OPEN)
    conversation.refresh_from_db()
    # Answered: the resolution's deadline, later than the answer's was.
    assert conversation.next_due_at == running_due(conversation, selectors.RESOLUTION)
    assert conversation.next_due_at > NOW + timedelta(hours=20)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Please send the ad's link.", then=Status.WAITING)
    conversation.refresh_from_db()
    assert conversation.next_due_at is None  # waiting on the user: nothing counts down
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        services.message_send(conversation=conversation, user=conversation.user, body="Here it is.")
    conversation.refresh_from_db()
    # Owed an answer again: the new first-response deadline, the resolution counting again beneath it.
    assert running_due(conversation, selectors.RESOLUTION) is not None
    assert conversation.next_due_at == running_due(conversation, selectors.FIRST_RESPONSE) is not None
    with time_machine.travel(NOW + timedelta(hours=4), tick=False):
        services.conversation_resolve(conversation=conversation, by=agent)
    conversation.refresh_from_db()
    assert conversation.next_due_at is None


def test_the_inbox_lists_breached_first_then_the_earliest_deadline_then_those_waiting_on_the_user(agent):
    # A 24-hour first answer each: "late" arrived 30 hours ago and is breached; "soon" is due in 2 hours, "later"
    # in 20; "answered" owes only its resolution (48 h or more); "waiting" waits on the user.
    later = arrives(NOW - timedelta(hours=4), "later")
    late = arrives(NOW - timedelta(hours=30), "late")
    soon = arrives(NOW - timedelta(hours=22), "soon")
    answered = arrives(NOW - timedelta(hours=23), "answered")
    waiting = arrives(NOW - timedelta(hours=23, minutes=30), "waiting")
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        services.reply_send(conversation=answered, by=agent, body="On it.", then=Status.OPEN)
        services.reply_send(conversation=waiting, by=agent, body="Which ad?", then=Status.WAITING)
    expected = ["late", "soon", "later", "answered", "waiting"]
    with time_machine.travel(NOW, tick=False):
        rows = list(selectors.inbox(user=agent))
        assert subjects(rows) == expected
        assert [row.is_breached for row in rows] == [True, False, False, False, False]
        assert subjects(selectors.inbox(user=agent, view=selectors.View.BREACHED)) == ["late"]
        # The staff API walks the same order a page at a time.
        api = APIClient()
        api.login(email=agent.email, password=PASSWORD)
        walked, url = [], reverse("messaging-api:staff-conversation-list") + "?page_size=2"
        while url:
            body = api.get(url).json()
            walked += [row["subject"] for row in body["results"]]
            url = body["next"]
    assert walked == expected
    assert {c.pk: c.next_due_at for c in (late, soon, later)} == {
        c.pk: running_due(c, selectors.FIRST_RESPONSE) for c in (late, soon, later)
    }


def test_the_inbox_counts_stop_at_the_cap(agent, client):
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(user=agent, subject=f"c{i}", initiated_by="user", status=Status.OPEN, next_due_at=now)
        for i in range(QUEUE_COUNT_CAP + 5)
    )
    counts = selectors.view_counts()
    assert (int(counts["all"]), str(counts["all"]), str(counts["breached"])) == (QUEUE_COUNT_CAP, "1,000+", "0")
    client.login(email=agent.email, password=PASSWORD)
    page = client.get(reverse("messaging:home"))
    assert '<span class="count">1,000+</span>' in page.content.decode()
    # The pages go by position past the cap: the next link is there whatever the count says.
    assert page.context["page"].has_next and "Showing 1–50 of 1,000+" in page.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans")
def test_the_first_page_of_the_inbox_and_the_api_reads_the_open_queue_index_without_sorting_the_open_set(agent):
    now = timezone.now()
    user = UserFactory()
    # As on a real table, most conversations are resolved: the partial index on open ones is the small one to read.
    Conversation.objects.bulk_create(
        Conversation(
            user=user,
            subject=f"c{i}",
            initiated_by="user",
            status=Status.RESOLVED if i % 10 else Status.OPEN,
            next_due_at=now + timedelta(minutes=i),
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_conversation")
    pages = {
        "inbox": selectors.inbox(user=agent, now=now)[:51],
        "unassigned": selectors.inbox(user=agent, view=selectors.View.UNASSIGNED, now=now)[:51],
        "breached": selectors.inbox(user=agent, view=selectors.View.BREACHED, now=now)[:51],
    }
    for name, queryset in pages.items():
        plan = queryset.explain()
        assert "conversation_open_queue" in plan, (name, plan)
        sort_keys = [line for line in plan.splitlines() if "Sort Key" in line]
        assert not any("next_due_at" in line for line in sort_keys), (name, plan)


def test_clocks_inserted_in_bulk_set_the_sort_key_too(agent):
    from django.contrib.contenttypes.models import ContentType

    from saypro.sla.models import Policy
    from saypro.sla.replay import Replayed, clocks_insert
    from saypro.sla.services import clock_build

    conversation = Conversation.objects.create(user=UserFactory(), subject="imported", initiated_by="user")
    assert conversation.next_due_at is None
    target_type = ContentType.objects.get_for_model(Conversation)
    policy = Policy.objects.select_related("calendar").get(metric=selectors.FIRST_RESPONSE, is_default=True)
    clock = clock_build(
        metric=selectors.FIRST_RESPONSE, policy=policy, target_type=target_type, target_id=conversation.pk, at=NOW
    )
    clocks_insert([(Replayed(clock=clock, events=[]), target_type, conversation.pk)])
    conversation.refresh_from_db()
    assert conversation.next_due_at == clock.due_at
