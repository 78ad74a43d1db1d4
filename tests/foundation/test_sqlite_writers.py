"""Staff writes meet background writes on the embedded database and still land.

On SQLite a deferred transaction that reads and then writes fails at once with "database is locked" when another
connection holds the write lock; the settings open every transaction IMMEDIATE, so a writer waits its turn instead.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from messaging.models import Message
from reports import rollups
from tests.factories import UserFactory
from tests.messaging.conftest import start

NOTES = 20


def test_sqlite_transactions_take_the_write_lock_up_front():
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("PostgreSQL waits on row locks; the embedded database's settings are what this checks")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.django_db(transaction=True)
def test_internal_notes_posted_while_the_rollups_refresh_are_all_kept(agent, user, settings):
    settings.MODERATION_SPAM_CSV = ""
    conversation = start(user)
    for number in range(10):
        start(UserFactory(), body=f"Question {number} about my listing photos")
    today = timezone.localdate()
    failures: list[BaseException] = []
    done = threading.Event()

    def refresh_rollups():
        try:
            while not done.is_set():
                rollups.rollups_refresh(first=today - timedelta(days=60), last=today - timedelta(days=1))
        except BaseException as exc:  # the test reports any failure of the background writer
            failures.append(exc)
        finally:
            close_old_connections()
            connection.close()

    background = threading.Thread(target=refresh_rollups)
    background.start()
    client = Client(raise_request_exception=False)
    client.force_login(agent)
    try:
        statuses = [
            client.post(f"/dashboard/messages/{conversation.pk}/note/", {"body": f"note {number}"}).status_code
            for number in range(NOTES)
        ]
    finally:
        done.set()
        background.join()

    assert failures == []
    assert set(statuses) == {302}
    assert Message.objects.filter(conversation=conversation, body__startswith="note ").count() == NOTES
