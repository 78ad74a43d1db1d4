"""Work whose task was lost is recovered from the database alone: the reconciliation sweep finds each item whose
follow-up has not happened within the grace period and hands it to a worker again, once per retry period.

In these tests the after-commit tasks never run (the test's transaction never commits), which is exactly the
state a killed worker or an emptied Redis leaves behind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Registration, RegistrationStatus
from marketplace import services as marketplace
from marketplace.models import Category
from messaging import services as messaging
from messaging.models import Conversation
from moderation.models import Detection
from reports import services as reports
from reports.models import ReportRun, RunStatus
from saypro.audit.models import AuditEntry
from saypro.celery import app as celery_app
from saypro.outbox.followups import followups, followups_reconcile
from saypro.outbox.models import FollowUpClaim, MailDelivery
from support import services as support
from support.models import Channel, Ticket
from tests.accounts.helpers import signup
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def later(minutes: int) -> timezone.datetime:
    return timezone.now() + timedelta(minutes=minutes)


@pytest.fixture
def first_sweep():
    """The sweep ran once before the work was accepted (it replays nothing older than its first run)."""
    followups_reconcile(now=timezone.now() - timedelta(minutes=1))


def test_every_kind_of_after_commit_work_is_declared():
    assert {entry.key for entry in followups()} >= {
        "accounts.screening",
        "accounts.acknowledgement",
        "messaging.triage",
        "moderation.detection",
        "reports.queued",
        "reports.undelivered",
        "support.triage",
        "support.acknowledgement",
    }


def test_a_registration_whose_screening_was_lost_is_screened_and_acknowledged_once(first_sweep):
    registration = signup()
    accounts.registration_submit(registration=registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SCREENING

    assert followups_reconcile(now=later(1))["accounts.screening"] == 0  # within the grace period
    counts = followups_reconcile(now=later(15))

    assert counts["accounts.screening"] == 1
    assert counts["accounts.acknowledgement"] == 1
    registration.refresh_from_db()
    assert registration.status != RegistrationStatus.SCREENING
    assert AuditEntry.objects.filter(action="registration.screen", target_id=str(registration.pk)).count() == 1
    ack = MailDelivery.objects.get(once_key=f"registration-ack:{registration.pk}")
    assert ack.status == MailDelivery.Status.SENT
    assert ack.to == [registration.user.email]
    acknowledged = len(mail.outbox)
    assert followups_reconcile(now=later(60)) == dict.fromkeys(counts, 0)
    assert len(mail.outbox) == acknowledged


def test_conversation_listing_and_ticket_left_without_their_tasks_are_caught_up(first_sweep):
    user = UserFactory()
    conversation = messaging.conversation_start(user=user, subject="Payment", body="My payment did not go through")
    listing = marketplace.listing_create(
        seller=user,
        title="Road bike, carbon frame, size 56",
        description="Ridden for two seasons, serviced in March, new chain and tyres. Collection in Rosebank.",
        price=Decimal("9500.00"),
        currency="ZAR",
        category=Category.objects.get(slug="phones"),
        region="Gauteng",
    )
    ticket = support.ticket_create(requester=user, subject="Payout", body="Where is my payout?", channel=Channel.WEB)
    assert not Detection.objects.filter(object_id=listing.pk, kind="listing").exists()

    counts = followups_reconcile(now=later(15))

    assert counts["messaging.triage"] == 1
    assert counts["moderation.detection"] >= 2  # the listing and the conversation's first message
    assert counts["support.triage"] == 1
    assert counts["support.acknowledgement"] == 1
    assert Conversation.objects.get(pk=conversation.pk).triage_pending_since is None
    assert Detection.objects.filter(object_id=listing.pk, kind="listing").count() == 1
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.department_id is not None or ticket.needs_triage
    assert followups_reconcile(now=later(60)) == dict.fromkeys(counts, 0)


def test_a_report_run_whose_task_was_lost_before_any_worker_took_it_is_generated(first_sweep, manager):
    period = reports.report_period(kind="weekly", day=timezone.localdate())
    run = reports.report_request(kind="weekly", period=period, by=manager)
    assert ReportRun.objects.get(pk=run.pk).status == RunStatus.QUEUED

    assert followups_reconcile(now=later(15))["reports.queued"] == 1

    run = ReportRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.DONE and run.generations == 1
    assert followups_reconcile(now=later(60))["reports.queued"] == 0


def test_an_item_still_pending_is_handed_out_again_only_after_the_retry_period(first_sweep, settings):
    """With no worker running, a re-dispatched item stays pending: the sweep every few minutes must not pile
    up copies of its task, and must give up after FOLLOWUP_MAX_ATTEMPTS."""
    settings.FOLLOWUP_RETRY_MINUTES = 30
    settings.FOLLOWUP_MAX_ATTEMPTS = 2
    registration = signup()
    accounts.registration_submit(registration=registration)
    celery_app.conf.task_always_eager = False  # published to the test broker, never run
    try:
        assert followups_reconcile(now=later(15))["accounts.screening"] == 1
        assert followups_reconcile(now=later(20))["accounts.screening"] == 0
        assert followups_reconcile(now=later(40))["accounts.screening"] == 0
        assert followups_reconcile(now=later(46))["accounts.screening"] == 1
        assert followups_reconcile(now=later(120))["accounts.screening"] == 0
    finally:
        celery_app.conf.task_always_eager = True
    claim = FollowUpClaim.objects.get(followup="accounts.screening", item=str(registration.pk))
    assert claim.attempts == 2
    assert Registration.objects.get(pk=registration.pk).status == RegistrationStatus.SCREENING


def test_work_accepted_before_the_first_sweep_is_not_replayed_except_what_must_never_wait():
    registration = signup()
    accounts.registration_submit(registration=registration)
    user = UserFactory()
    support.ticket_create(requester=user, subject="Old", body="From before the sweep existed", channel=Channel.WEB)

    counts = followups_reconcile(now=later(15))

    # A registration stuck in screening is never left; an acknowledgement from before the sweep is not sent late.
    assert counts["accounts.screening"] == 1
    assert counts["accounts.acknowledgement"] == 0
    assert counts["support.acknowledgement"] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's")
def test_every_follow_up_query_reads_an_index():
    """The sweep runs every five minutes over tables of millions of rows: no pending query may scan a table."""
    now = timezone.now()
    for entry in followups():
        queryset = entry.pending(before=now, since=now - timedelta(days=3))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # the test tables are tiny
            plan = queryset.explain()
        assert "Seq Scan" not in plan, f"{entry.key}:\n{plan}"
