"""Reviewers' decisions: approve, reject, request information, claim, bulk, block rules, and the 48-hour clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone

from accounts import services
from accounts.models import DelayCause, IdentityFingerprint, Registration, RegistrationStatus, User
from moderation import badges
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError, InvalidInput
from saypro.sla.models import Clock, ClockEvent
from saypro.sla.services import sla_sweep
from tests.accounts.helpers import submitted

pytestmark = pytest.mark.django_db

START = "2026-03-02 08:00:00Z"


def in_review(**overrides) -> Registration:
    """A submitted registration that screening sent to a reviewer (disposable address)."""
    overrides.setdefault("email", f"applicant{Registration.objects.count()}@mailinator.com")
    overrides.setdefault("phone", f"+278255504{Registration.objects.count():02d}")
    registration = submitted(**overrides)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    return registration


def clock_of(registration) -> Clock:
    return Clock.objects.filter(metric="registration.approval", target_id=registration.pk).latest("started_at")


def test_reviewer_approves_and_the_applicant_is_told(reviewer, django_capture_on_commit_callbacks):
    registration = in_review()
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_approve(registration=registration, by=reviewer, reason="ID checked")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert registration.decided_by == reviewer and not registration.auto_approved
    assert clock_of(registration).met is True
    entry = AuditEntry.objects.get(action="registration.approve")
    assert entry.actor == reviewer and entry.reason == "ID checked"
    assert mail.outbox[-1].to == [registration.user.email] and "approved" in mail.outbox[-1].subject


def test_rejection_needs_a_reason_which_is_emailed(reviewer, django_capture_on_commit_callbacks):
    registration = in_review()
    with pytest.raises(InvalidInput) as caught:
        services.registration_reject(registration=registration, by=reviewer, reason="  ")
    assert "reason" in caught.value.fields
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_reject(registration=registration, by=reviewer, reason="Duplicate account")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
    assert "Duplicate account" in mail.outbox[-1].body
    assert IdentityFingerprint.objects.filter(reason="rejected").count() == 2
    assert registration.canonical_email not in str(list(IdentityFingerprint.objects.values_list("digest", flat=True)))


def test_a_second_reviewer_sees_who_decided_first(reviewer, administrator):
    registration = in_review()
    services.registration_approve(registration=registration, by=reviewer)
    with pytest.raises(services.AlreadyDecided) as caught:
        services.registration_reject(registration=registration, by=administrator, reason="fraud")
    assert "approved by reviewer@saypro.example" in caught.value.message
    # The same reviewer clicking twice is not a conflict.
    services.registration_approve(registration=registration, by=reviewer)
    assert AuditEntry.objects.filter(action__in=["registration.approve", "registration.reject"]).count() == 1


def test_a_registration_not_yet_submitted_cannot_be_approved(reviewer):
    from tests.accounts.helpers import signup

    with pytest.raises(DomainError):
        services.registration_approve(registration=signup(), by=reviewer)


def test_request_for_information_pauses_the_clock_until_the_applicant_answers(
    reviewer, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        registration = in_review()
    due = clock_of(registration).due_at
    with time_machine.travel("2026-03-02 18:00:00Z", tick=False):
        with pytest.raises(InvalidInput):
            services.registration_request_info(registration=registration, by=reviewer, message="")
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_request_info(registration=registration, by=reviewer, message="Send your ID")
    assert clock_of(registration).state == "paused"
    assert "Send your ID" in mail.outbox[-1].body
    # Two days waiting on the applicant do not count against the 48 hours.
    with time_machine.travel("2026-03-04 18:00:00Z", tick=False):
        assert sla_sweep().breached == 0
        services.registration_provide_info(registration=registration, message="Attached, thanks")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.info_response == "Attached, thanks"
    clock = clock_of(registration)
    assert clock.state == "running"
    assert clock.due_at == due + timedelta(days=2)


def test_id_document_upload_is_limited_by_type_and_size(reviewer):
    registration = in_review()
    services.registration_request_info(registration=registration, by=reviewer, message="Send your ID")
    script = SimpleUploadedFile("id.exe", b"MZ...", content_type="application/x-msdownload")
    with pytest.raises(InvalidInput) as caught:
        services.registration_provide_info(registration=registration, message="", id_document=script)
    assert "id_document" in caught.value.fields
    huge = SimpleUploadedFile("id.pdf", b"0" * (5 * 1024 * 1024 + 1), content_type="application/pdf")
    with pytest.raises(InvalidInput):
        services.registration_provide_info(registration=registration, message="", id_document=huge)
    ok = SimpleUploadedFile("id.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    services.registration_provide_info(registration=registration, message="", id_document=ok)
    registration.refresh_from_db()
    assert registration.id_document.name.endswith(".pdf")


@pytest.fixture
def with_id_document(settings, tmp_path):
    """A registration in review whose applicant uploaded an ID document, with e-mail and phone verified."""
    settings.MEDIA_ROOT = str(tmp_path)

    def make() -> Registration:
        document = SimpleUploadedFile("passport.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        registration = in_review(id_document=document)
        now = timezone.now()
        User.objects.filter(pk=registration.user_id).update(email_verified_at=now, phone_verified_at=now)
        return registration

    return make


def test_a_reviewer_records_the_id_check_once_with_its_time_and_an_audit_entry(
    reviewer, administrator, with_id_document
):
    registration = with_id_document()
    with time_machine.travel("2026-03-02 10:15:00Z", tick=False):
        services.registration_verify_id(registration=registration, by=reviewer)
    user = User.objects.get(pk=registration.user_id)
    assert user.id_verified_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    entry = AuditEntry.objects.get(action="registration.id_verified")
    assert entry.actor == reviewer and entry.target_id == str(registration.pk)

    with time_machine.travel("2026-03-02 11:00:00Z", tick=False):
        services.registration_verify_id(registration=registration, by=administrator)
    user.refresh_from_db()
    assert user.id_verified_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert AuditEntry.objects.filter(action="registration.id_verified").count() == 1


def test_the_id_check_completes_the_verified_badge_when_a_document_was_given(reviewer, with_id_document):
    registration = with_id_document()
    assert not badges.user_is_verified(registration.user)
    services.registration_verify_id(registration=registration, by=reviewer)
    assert badges.user_is_verified(registration.user)


def test_an_id_check_without_an_uploaded_document_is_refused(reviewer):
    registration = in_review()
    with pytest.raises(DomainError) as caught:
        services.registration_verify_id(registration=registration, by=reviewer)
    assert caught.value.code == "no_id_document"
    assert User.objects.get(pk=registration.user_id).id_verified_at is None
    assert not AuditEntry.objects.filter(action="registration.id_verified").exists()


def test_a_support_agent_cannot_record_an_id_check(agent, with_id_document):
    registration = with_id_document()
    with pytest.raises(DomainError) as caught:
        services.registration_verify_id(registration=registration, by=agent)
    assert caught.value.code == "not_allowed"
    assert User.objects.get(pk=registration.user_id).id_verified_at is None
    assert not AuditEntry.objects.filter(action="registration.id_verified").exists()


def test_clock_warns_at_36_hours_and_43_hours_and_breaches_at_48(
    reviewer, administrator, django_capture_on_commit_callbacks
):
    with time_machine.travel(START, tick=False):
        registration = in_review()
    mail.outbox = []
    with time_machine.travel("2026-03-03 19:59:00Z", tick=False):
        sla_sweep()
    assert clock_of(registration).warned_percent == 0
    with time_machine.travel("2026-03-03 20:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()  # 36 h = 75 %: the reviewers are told
    assert clock_of(registration).warned_percent == 75
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    with time_machine.travel("2026-03-04 03:12:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()  # 43.2 h = 90 %: the administrators too
    assert clock_of(registration).warned_percent == 90
    assert sorted(mail.outbox[-1].to) == sorted([reviewer.email, administrator.email])
    with time_machine.travel("2026-03-04 08:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
        sla_sweep()  # a second run changes nothing
    clock = clock_of(registration)
    assert clock.breached_at is not None
    assert ClockEvent.objects.filter(clock=clock, kind="breach").count() == 1
    assert "breached" in mail.outbox[-1].subject
    assert len(mail.outbox) == 3


def test_deciding_a_breached_registration_requires_a_delay_root_cause(reviewer):
    with time_machine.travel(START, tick=False):
        registration = in_review()
    with time_machine.travel("2026-03-04 09:00:00Z", tick=False):
        with pytest.raises(services.DelayCauseRequired):
            services.registration_approve(registration=registration, by=reviewer)
        with pytest.raises(InvalidInput) as caught:
            services.registration_approve(registration=registration, by=reviewer, delay_cause=DelayCause.OTHER)
        assert "delay_note" in caught.value.fields
        services.registration_approve(registration=registration, by=reviewer, delay_cause=DelayCause.REVIEW_BACKLOG)
    registration.refresh_from_db()
    assert registration.delay_cause == DelayCause.REVIEW_BACKLOG
    assert clock_of(registration).met is False


def test_an_on_time_decision_records_no_delay_cause(reviewer):
    registration = in_review()
    services.registration_approve(registration=registration, by=reviewer, delay_cause=DelayCause.OTHER)
    registration.refresh_from_db()
    assert registration.delay_cause == ""


def test_claim_and_release(reviewer, administrator):
    registration = in_review()
    services.registration_claim(registration=registration, by=reviewer)
    services.registration_claim(registration=registration, by=reviewer)
    with pytest.raises(DomainError) as caught:
        services.registration_claim(registration=registration, by=administrator)
    assert caught.value.code == "already_claimed"
    services.registration_release(registration=registration, by=reviewer)
    services.registration_claim(registration=registration, by=administrator)
    registration.refresh_from_db()
    assert registration.claimed_by == administrator


def test_bulk_decisions_decide_what_they_can_and_say_why_for_the_rest(reviewer):
    first, second, third = in_review(), in_review(), in_review()
    services.registration_reject(registration=third, by=reviewer, reason="fraud")
    with pytest.raises(InvalidInput):
        services.registrations_bulk_decide(ids=[first.pk], by=reviewer, decision="reject", reason="")
    result = services.registrations_bulk_decide(
        ids=[first.pk, second.pk, third.pk, 999999], by=reviewer, decision="approve"
    )
    assert result.decided == [first.pk, second.pk]
    assert set(result.skipped) == {third.pk, 999999}
    assert "rejected" in result.skipped[third.pk]


def test_block_rule_preview_and_apply_reject_the_matching_queue(reviewer):
    caught = in_review(email="ring1@mailinator.com", ip="192.0.2.10")
    also = in_review(email="ring2@mailinator.com", ip="192.0.2.11")
    spared = in_review(email="other@mailinator.com", ip="203.0.113.50")
    rule = services.block_rule_create(kind="ip_range", value="192.0.2.0/24", reason="fraud ring", by=reviewer)
    assert set(services.block_rule_preview(rule=rule).values_list("pk", flat=True)) == {caught.pk, also.pk}
    assert services.block_rule_apply(rule=rule, by=reviewer) == 2
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses[caught.pk] == statuses[also.pk] == RegistrationStatus.REJECTED
    assert statuses[spared.pk] == RegistrationStatus.NEEDS_REVIEW
    keyword = services.block_rule_create(kind="keyword", value="other@", reason="test", by=reviewer)
    assert list(services.block_rule_preview(rule=keyword)) == [spared]


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_the_same_moment_end_in_exactly_one_decision(reviewer, administrator):
    registration = in_review()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    # Set when either reviewer has an answer: a refused writer waits for it instead of a fixed number of retries,
    # however slowly the other thread is scheduled.
    answered = threading.Event()

    def decide(actor, approve):
        barrier.wait()
        try:
            # A bound that only a hung thread reaches, so a broken lock fails the test instead of blocking it.
            give_up = time.monotonic() + 120
            while True:
                try:
                    if approve:
                        services.registration_approve(registration=registration, by=actor)
                    else:
                        services.registration_reject(registration=registration, by=actor, reason="fraud")
                    outcomes.append("decided")
                    return
                except services.AlreadyDecided:
                    outcomes.append("refused")
                    return
                except OperationalError:
                    # SQLite refuses a concurrent writer instead of waiting on the row lock as PostgreSQL does;
                    # the reviewer tries again once the other has an answer (or after a short pause, in case
                    # both were refused at once).
                    assert connection.vendor == "sqlite"
                    if time.monotonic() > give_up:
                        raise
                    if answered.is_set():
                        time.sleep(0.01)
                    else:
                        answered.wait(timeout=0.05)
        except BaseException as exc:
            errors.append(exc)
        finally:
            answered.set()
            close_old_connections()

    threads = [
        threading.Thread(target=decide, args=(reviewer, True)),
        threading.Thread(target=decide, args=(administrator, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(outcomes) == ["decided", "refused"]
    decisions = AuditEntry.objects.filter(action__in=["registration.approve", "registration.reject"])
    assert decisions.count() == 1
    assert Clock.objects.get(target_id=registration.pk).stopped_at is not None
