"""Conversation work done by a real Celery worker, and concurrent decisions on one conversation."""

from __future__ import annotations

import threading
import time

import pytest
from django.core import mail
from django.db import OperationalError, close_old_connections, connection
from rest_framework.test import APIClient

from messaging import services
from messaging.models import Category, Conversation, Team
from saypro.audit.models import AuditEntry
from tests.conftest import wait_for
from tests.factories import UserFactory
from tests.messaging.conftest import on_team, start


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_categorises_routes_and_emails_the_reply(celery_worker_live, user, settings):
    settings.MODERATION_SPAM_CSV = ""
    office = UserFactory(email="office@saypro.example", roles=["Support agent"])
    on_team(office, Team.CLASSIFIED_OFFICE)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/conversations/", {"body": "This ad is a scam, please remove it"}, format="json")
    assert response.status_code == 201
    conversation = Conversation.objects.get()

    def triaged():
        conversation.refresh_from_db()
        return conversation.assigned_to_id == office.pk

    wait_for(triaged)
    assert conversation.category == Category.POLICY
    services.reply_send(conversation=conversation, by=office, body="Removed, thank you.")
    wait_for(lambda: any(m.to == [user.email] and "Removed, thank you." in m.body for m in mail.outbox))


def _race(conversation, actors, act, expected):
    barrier = threading.Barrier(len(actors))
    outcomes: list[str] = []

    def run(actor):
        barrier.wait()
        try:
            for _attempt in range(50):
                try:
                    act(conversation, actor)
                    outcomes.append("done")
                    return
                except expected:
                    outcomes.append("refused")
                    return
                except OperationalError:
                    # SQLite refuses a concurrent writer instead of waiting; PostgreSQL waits on the row lock.
                    assert connection.vendor == "sqlite"
                    time.sleep(0.01)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_agents_claiming_at_the_same_moment_end_with_one_owner(user, agent, administrator, settings):
    settings.MODERATION_SPAM_CSV = ""
    conversation = start(user)

    def claim(conversation, actor):
        services.conversation_claim(conversation=conversation, by=actor)

    assert _race(conversation, [agent, administrator], claim, services.DomainError) == ["done", "refused"]
    assert AuditEntry.objects.filter(action="conversation.claim").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_resolving_at_the_same_moment_resolve_it_once(user, agent, administrator, settings):
    settings.MODERATION_SPAM_CSV = ""
    conversation = start(user)

    def resolve(conversation, actor):
        services.conversation_resolve(conversation=conversation, by=actor)

    assert _race(conversation, [agent, administrator], resolve, services.DomainError) == ["done", "done"]
    assert AuditEntry.objects.filter(action="conversation.resolve").count() == 1
    assert conversation.clocks.filter(metric="message.resolution", state="stopped").count() == 1
