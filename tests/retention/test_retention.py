"""Personal data is kept only as long as its period: the daily run purges what expired, in batches, records counts
(never contents) in the audit trail, and keeps what is still needed (pending registrations, evidence in an open
case or under appeal)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AccountEvent, AccountSession, AccountStatus, RegistrationStatus
from messaging import services as messaging
from messaging.models import Attachment, Message, Status
from moderation import services as moderation
from moderation.models import Action, Case, CaseStatus, Rule
from reports.sections import context_for
from reports.sections.accounts import security_section
from saypro import periods
from saypro.audit.models import AuditEntry
from saypro.retention.models import RetentionPolicy
from saypro.retention.registry import REMOVED_TEXT
from saypro.retention.selectors import purged_between
from saypro.retention.services import purge_expired
from support import services as support
from support.models import TicketAttachment, TicketMessage
from tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def days_ago(days: int):
    return timezone.now() - days * DAY


def note(name: str = "receipt.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"Paid on the 3rd, reference 4471.", content_type="text/plain")


def test_network_details_go_after_their_period_and_a_pending_registration_keeps_its_own(
    django_capture_on_commit_callbacks,
):
    old = AccountEvent.objects.create(kind="sign_in", at=days_ago(91), ip_address="203.0.113.9", user_agent="Firefox")
    recent = AccountEvent.objects.create(
        kind="sign_in", at=days_ago(89), ip_address="203.0.113.9", user_agent="Firefox"
    )
    decided = RegistrationFactory(status=RegistrationStatus.APPROVED, decided_at=days_ago(100))
    pending = RegistrationFactory(status=RegistrationStatus.NEEDS_REVIEW, started_at=days_ago(100))

    with django_capture_on_commit_callbacks(execute=True):
        counts = purge_expired(batch_size=1)  # batches of one: the loop must run to the end

    old.refresh_from_db(), recent.refresh_from_db(), decided.refresh_from_db(), pending.refresh_from_db()
    assert (old.ip_address, old.user_agent, old.kind) == (None, "", "sign_in")  # the event still counts
    assert recent.ip_address == "203.0.113.9"
    assert (decided.ip_address, decided.subnet) == (None, "")
    assert (pending.ip_address, pending.subnet) == ("198.51.100.7", "198.51.100.0/24")
    assert counts["accounts.network"] == 2
    entry = AuditEntry.objects.get(action="retention.purge", data__kind="accounts.network")
    assert entry.data["count"] == 2 and entry.actor is None
    assert "203.0.113.9" not in str(entry.data)  # counts, never contents

    assert purge_expired()["accounts.network"] == 0  # nothing left: no second entry
    assert AuditEntry.objects.filter(action="retention.purge", data__kind="accounts.network").count() == 1


def test_an_id_document_is_deleted_after_the_decision_period_and_a_pending_one_is_kept(
    django_capture_on_commit_callbacks,
):
    decided = RegistrationFactory(status=RegistrationStatus.REJECTED, decided_at=days_ago(31))
    decided.id_document.save("id.pdf", ContentFile(b"%PDF-1.4 id"))
    waiting = RegistrationFactory(status=RegistrationStatus.NEEDS_REVIEW, submitted_at=days_ago(40))
    waiting.id_document.save("id.pdf", ContentFile(b"%PDF-1.4 id"))
    path = decided.id_document.name

    with django_capture_on_commit_callbacks(execute=True):
        purge_expired()

    decided.refresh_from_db(), waiting.refresh_from_db()
    assert not decided.id_document and not default_storage.exists(path)
    assert waiting.id_document and default_storage.exists(waiting.id_document.name)


def test_expired_sessions_are_deleted_and_ended_ones_lose_what_identifies_them(user):
    stale = SessionStore()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=days_ago(31))
    live = SessionStore()
    live.create()
    ended = AccountSession.objects.create(
        user=user, channel="web", key="k1", started_at=days_ago(40), last_seen_at=days_ago(40), ended_at=days_ago(40),
        ip_address="203.0.113.9", subnet="203.0.113.0/24", user_agent="Firefox", device_type="desktop",
    )  # fmt: skip
    current = AccountSession.objects.create(user=user, channel="web", key="k2", ip_address="203.0.113.9")

    purge_expired()

    assert set(Session.objects.values_list("session_key", flat=True)) == {live.session_key}
    ended.refresh_from_db(), current.refresh_from_db()
    assert (ended.key, ended.ip_address, ended.subnet, ended.user_agent) == ("", None, "", "")
    assert ended.device_type == "desktop" and ended.ended_at is not None  # the session-length figures still add up
    assert (current.key, current.ip_address) == ("k2", "203.0.113.9")


# Moderation's own rules open a case on this at once (keywords and a link shortener), without a trained classifier.
SPAM = "Free money, 100% guaranteed! Click here: bit.ly/claim-now before midnight."


def resolved_conversation_with_a_file(user, capture, *, resolved_days_ago: int, body: str = "See my receipt"):
    with capture(execute=True):
        conversation = messaging.conversation_start(user=user, subject="Refund", body=body, attachments=[note()])
    conversation.__class__.objects.filter(pk=conversation.pk).update(
        status=Status.RESOLVED, resolved_at=days_ago(resolved_days_ago)
    )
    return Message.objects.get(conversation=conversation, attachments__isnull=False)


def test_conversation_attachments_go_a_year_after_resolution_unless_they_are_evidence(
    django_capture_on_commit_callbacks, moderator
):
    capture = django_capture_on_commit_callbacks
    author, spammer, appellant = UserFactory(), UserFactory(), UserFactory()
    expired = resolved_conversation_with_a_file(author, capture, resolved_days_ago=366)
    young = resolved_conversation_with_a_file(author, capture, resolved_days_ago=300)
    in_case = resolved_conversation_with_a_file(spammer, capture, resolved_days_ago=400, body=SPAM)
    under_appeal = resolved_conversation_with_a_file(appellant, capture, resolved_days_ago=400, body=SPAM)
    case = Case.objects.get(kind="message", object_id=under_appeal.pk)
    assert Case.objects.filter(kind="message", object_id=in_case.pk, status=CaseStatus.OPEN).exists()
    with capture(execute=True):
        moderation.case_decide(case=case, by=moderator, action=Action.REMOVE, rule=Rule.SPAM, reason="Spam.")
        moderation.appeal_file(case=case, by=appellant, statement="It is my own receipt.")
    expired_file = expired.attachments.get().file.name

    with capture(execute=True):
        counts = purge_expired()

    assert counts["messaging.attachments"] == 1
    assert not default_storage.exists(expired_file)
    assert set(Attachment.objects.values_list("message_id", flat=True)) == {young.pk, in_case.pk, under_appeal.pk}


def test_a_deleted_accounts_words_read_as_removed_after_the_period(django_capture_on_commit_callbacks):
    gone, recent, staying = UserFactory(), UserFactory(), UserFactory()
    for person in (gone, recent, staying):
        messaging.conversation_start(user=person, subject="Hello", body=f"My number is {person.phone}")
        support.ticket_create(requester=person, subject="Help", body="Call me", channel="web", attachments=[note()])
    gone.__class__.objects.filter(pk=gone.pk).update(status=AccountStatus.DELETED, status_changed_at=days_ago(31))
    recent.__class__.objects.filter(pk=recent.pk).update(status=AccountStatus.DELETED, status_changed_at=days_ago(5))

    with django_capture_on_commit_callbacks(execute=True):
        purge_expired()

    assert set(Message.objects.filter(body=REMOVED_TEXT).values_list("author", flat=True)) == {gone.pk}
    assert set(TicketMessage.objects.filter(body=REMOVED_TEXT).values_list("author", flat=True)) == {gone.pk}
    assert not TicketAttachment.objects.filter(message__author=gone).exists()
    assert TicketAttachment.objects.filter(message__author__in=[recent, staying]).count() == 2
    assert Message.objects.filter(author=gone).exists()  # the rows stay: volumes and times still add up


def test_the_purged_counts_of_a_period_read_by_kind_with_their_labels():
    AccountEvent.objects.create(kind="sign_in", at=days_ago(100), ip_address="203.0.113.9")
    AccountEvent.objects.create(kind="sign_in", at=days_ago(100), user_agent="Safari")
    purge_expired()

    purged = purged_between(start=days_ago(1), end=timezone.now() + DAY)
    assert [(row.kind, row.label, row.count) for row in purged] == [
        ("accounts.network", "IP addresses and browser details", 2)
    ]
    assert purged_between(start=days_ago(10), end=days_ago(5)) == []


def test_a_shorter_period_set_by_an_administrator_purges_sooner(client, administrator):
    event = AccountEvent.objects.create(kind="sign_in", at=days_ago(20), ip_address="203.0.113.9")
    client.force_login(administrator)
    listing = client.get(reverse("admin:retention_retentionpolicy_changelist"))
    assert listing.status_code == 200
    assert "IP addresses and browser details" in listing.text and "ID documents" in listing.text
    policy = RetentionPolicy.objects.get(kind="accounts.network")
    url = reverse("admin:retention_retentionpolicy_change", args=[policy.pk])

    refused = client.post(url, {"days": 0})
    assert refused.status_code == 200 and "greater than or equal to 1" in refused.text
    assert client.post(url, {"days": 14}).status_code == 302

    policy.refresh_from_db()
    assert (policy.days, policy.updated_by) == (14, administrator)
    change = AuditEntry.objects.get(action="retention.change")
    assert change.data == {"from_days": 90, "days": 14} and change.actor == administrator
    purge_expired()
    event.refresh_from_db()
    assert event.ip_address is None


@pytest.mark.parametrize("persona", ["manager", "moderator", "agent", "reviewer"])
def test_only_administrators_see_or_change_retention_periods(as_, persona):
    client = as_(persona)
    assert client.get(reverse("admin:retention_retentionpolicy_changelist")).status_code in (302, 403)


def test_the_reports_privacy_section_shows_what_was_purged_in_the_period():
    AccountEvent.objects.create(kind="sign_in", at=days_ago(100), ip_address="203.0.113.9")
    purge_expired()

    section = security_section(context_for(periods.containing(periods.MONTH, timezone.now())))
    table = next(table for table in section.tables if table.key == "security_retention")
    assert table.rows == [["IP addresses and browser details", 1, 0]]
