"""The search box of every work queue (review queue, inbox, support queue, moderation queue): a row is found by its
own text and by its person's name, e-mail address or phone number, whatever the case of the query; a query under
three characters (no trigram index serves it) finds the same rows by the plain comparison; the support queue also
finds a ticket by its number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from accounts.models import RegistrationStatus
from accounts.selectors import registration_queue
from messaging import services as messaging
from messaging.selectors import inbox
from moderation import services as moderation
from moderation.models import Reason
from moderation.selectors import case_queue
from saypro.sla.services import clock_start
from support import services as support
from support.selectors import ticket_queue
from tests.factories import ListingFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def person(name: str, email: str, phone: str):
    return UserFactory(full_name=name, email=email, phone=phone)


def registration(user, title: str) -> None:
    at = timezone.now() - timedelta(hours=2)
    row = RegistrationFactory(user=user, status=RegistrationStatus.NEEDS_REVIEW, submitted_at=at)
    clock_start(metric="registration.approval", target=row, at=at)


def conversation(user, title: str) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        messaging.conversation_start(user=user, subject=title, body="Hello, can you help me with this?")


def ticket(user, title: str) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        support.ticket_create(requester=user, subject=title, body="Hello", channel="web")


def case(user, title: str) -> None:
    listing = ListingFactory(seller=user, title=title)
    with TestCase.captureOnCommitCallbacks(execute=True):
        moderation.flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=Reason.SPAM)


QUEUES = {
    # name: (make a row, the queue's rows for a query, the row's own text the search reads, if any)
    "review queue": (registration, lambda q, staff: registration_queue(q=q), False),
    "inbox": (conversation, lambda q, staff: inbox(user=staff, q=q), True),
    "support queue": (ticket, lambda q, staff: ticket_queue(user=staff, q=q), True),
    "moderation queue": (case, lambda q, staff: case_queue(q=q), True),
}


@pytest.mark.parametrize("queue", QUEUES)
def test_a_queue_search_finds_a_row_by_its_text_and_its_persons_name_email_or_phone(queue, agent):
    make, rows, has_text = QUEUES[queue]
    make(person("Thandiwe Mokoena", "thandi.m@example.com", "+27825550191"), "Refund for a broken kettle")
    make(person("Pieter van Wyk", "pieter@example.org", "+27825550272"), "Where is my parcel")

    def found(q: str) -> list[str]:
        return sorted(row_person(row).full_name for row in rows(q, agent))

    for q in ["mokoena", "THANDI.M@", "5550191", "Th"]:
        assert found(q) == ["Thandiwe Mokoena"], (queue, q)
    if has_text:
        assert found("KETTLE") == ["Thandiwe Mokoena"]
        assert found("parcel") == ["Pieter van Wyk"]
    assert found("nobody-by-that-name") == []


def test_the_support_queue_finds_a_ticket_by_its_number(agent):
    ticket(person("Thandiwe Mokoena", "thandi.m@example.com", "+27825550191"), "Refund for a broken kettle")
    ticket(person("Pieter van Wyk", "pieter@example.org", "+27825550272"), "Where is my parcel")
    number = ticket_queue(user=agent, q="parcel").get().pk
    assert [row.pk for row in ticket_queue(user=agent, q=f"#{number}")] == [number]
    assert [row.pk for row in ticket_queue(user=agent, q=str(number))] == [number]


def row_person(row):
    for field in ("requester", "author", "user"):
        if hasattr(row, field):
            return getattr(row, field)
    raise AssertionError(row)
