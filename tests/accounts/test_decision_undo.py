"""After a decision: on to the next registration, a few seconds to undo it, and the applicant told only afterwards;
deciding a registration a colleague claimed asks first."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import services, tasks
from accounts.models import IdentityFingerprint, RegistrationStatus
from saypro.audit.selectors import audit_for_object
from saypro.celery import app as celery_app
from saypro.errors import DomainError
from saypro.sla.models import ClockEvent, ClockState
from saypro.sla.services import clock_open_for
from tests.accounts.test_pages import flashed, pending, status_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

METRIC = "registration.approval"


@pytest.fixture
def colleague(db):
    from accounts import roles

    return UserFactory(email="colleague@saypro.example", full_name="Cora Colleague", roles=[roles.REVIEWER])


def test_approving_goes_on_to_the_next_registration_in_queue_order_with_an_undo_offer(as_):
    decided = pending(hours_ago=30)
    later = pending(hours_ago=1)
    sooner = pending(hours_ago=20)  # due before `later`: the queue lists it first
    response = as_("reviewer").post(
        f"/dashboard/registrations/{decided.pk}/approve/", {"approve-reason": "ID matches"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/dashboard/registrations/{sooner.pk}/?undo={decided.pk}"
    assert later.pk != sooner.pk
    assert f"Registration #{decided.pk} approved." in flashed(response)
    content = response.content.decode()
    assert f'You approved <a href="/dashboard/registrations/{decided.pk}/">registration #{decided.pk}</a>' in content
    assert f'action="/dashboard/registrations/{decided.pk}/undo/"' in content
    assert 'data-undo-seconds="10"' in content


def test_the_last_decision_goes_back_to_the_queue(as_):
    only = pending()
    response = as_("reviewer").post(
        f"/dashboard/registrations/{only.pk}/reject/", {"reject-reason": "Fake"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/dashboard/registrations/?undo={only.pk}"
    assert f'You rejected <a href="/dashboard/registrations/{only.pk}/">registration #{only.pk}</a>' in (
        response.content.decode()
    )


def test_requesting_information_goes_on_to_the_next_registration_without_an_undo(as_):
    asked, following = pending(hours_ago=30), pending(hours_ago=2)
    response = as_("reviewer").post(
        f"/dashboard/registrations/{asked.pk}/request-info/", {"info-message": "Send a clearer photo."}
    )
    assert response["Location"] == f"/dashboard/registrations/{following.pk}/"


def test_the_undo_offer_is_gone_once_the_window_has_passed(as_, reviewer):
    decided, other = pending(hours_ago=30), pending()
    services.registration_approve(registration=decided, by=reviewer)
    with time_machine.travel(timezone.now() + timedelta(seconds=11)):
        response = as_("reviewer").get(f"/dashboard/registrations/{other.pk}/?undo={decided.pk}")
    assert b'data-testid="undo"' not in response.content


def test_another_reviewer_is_not_offered_someone_elses_undo(as_, colleague):
    decided, other = pending(hours_ago=30), pending()
    services.registration_approve(registration=decided, by=colleague)
    response = as_("reviewer").get(f"/dashboard/registrations/{other.pk}/?undo={decided.pk}")
    assert b'data-testid="undo"' not in response.content


def test_undo_puts_the_registration_back_with_its_clock_running_against_the_same_deadline(as_, reviewer):
    registration = pending(hours_ago=5)
    due_at = clock_open_for(metric=METRIC, target=registration).due_at
    services.registration_approve(registration=registration, by=reviewer)
    assert clock_open_for(metric=METRIC, target=registration) is None
    response = as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/undo/", follow=True)
    assert response.redirect_chain[-1][0] == f"/dashboard/registrations/{registration.pk}/"
    assert flashed(response) == [
        f"Decision on registration #{registration.pk} undone: it is pending again, and the applicant was not told."
    ]
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert registration.decided_at is None and registration.decided_by is None
    clock = clock_open_for(metric=METRIC, target=registration)
    assert clock is not None and clock.state == ClockState.RUNNING and clock.due_at == due_at
    assert clock.stopped_at is None and clock.met is None and clock.next_check_at is not None
    assert clock.events.order_by("-pk").first().kind == ClockEvent.Kind.RESUME
    entry = audit_for_object(registration).order_by("-pk").first()
    assert (entry.action, entry.actor, entry.data) == (
        "registration.undo",
        reviewer,
        {"undone": "registration.approve", "to": "needs_review"},
    )
    assert "undid the decision" in response.content.decode()


def test_undoing_a_rejection_while_information_was_requested_pauses_the_clock_again(reviewer):
    registration = pending(hours_ago=5)
    services.registration_request_info(registration=registration, by=reviewer, message="Your ID, please.")
    paused = clock_open_for(metric=METRIC, target=registration)
    assert IdentityFingerprint.objects.count() == 0
    services.registration_reject(registration=registration, by=reviewer, reason="No answer")
    assert IdentityFingerprint.objects.count() == 2
    services.registration_decision_undo(registration=registration, by=reviewer)
    assert status_of(registration) == RegistrationStatus.INFO_REQUESTED
    clock = clock_open_for(metric=METRIC, target=registration)
    assert clock.state == ClockState.PAUSED and clock.paused_at == paused.paused_at
    assert clock.remaining_seconds == paused.remaining_seconds
    assert clock.paused_seconds == paused.paused_seconds
    # The fingerprints the rejection added are gone: the applicant is not blocked by a decision taken back.
    assert IdentityFingerprint.objects.count() == 0


def test_undo_is_refused_after_the_window(as_, reviewer):
    registration = pending()
    services.registration_approve(registration=registration, by=reviewer)
    with time_machine.travel(timezone.now() + timedelta(seconds=11)):
        response = as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/undo/", follow=True)
    assert flashed(response) == ["Too late to undo: the decision stands and the applicant is being told."]
    assert status_of(registration) == RegistrationStatus.APPROVED


def test_undo_is_refused_for_someone_elses_decision(reviewer, colleague):
    registration = pending()
    services.registration_approve(registration=registration, by=colleague)
    with pytest.raises(DomainError, match="Only the reviewer who decided can undo the decision"):
        services.registration_decision_undo(registration=registration, by=reviewer)
    assert status_of(registration) == RegistrationStatus.APPROVED


def test_undo_is_refused_when_someone_acted_since(reviewer, colleague):
    registration = pending()
    services.registration_claim(registration=registration, by=reviewer)
    services.registration_approve(registration=registration, by=reviewer)
    services.registration_release(registration=registration, by=colleague)
    with pytest.raises(DomainError, match="Someone acted on this registration since the decision"):
        services.registration_decision_undo(registration=registration, by=reviewer)
    assert status_of(registration) == RegistrationStatus.APPROVED


def test_the_decision_email_is_not_sent_for_an_undone_decision(reviewer, django_capture_on_commit_callbacks):
    registration = pending()
    with django_capture_on_commit_callbacks(execute=False):
        approved = services.registration_approve(registration=registration, by=reviewer)
    key = services.decision_key(approved)
    assert key.startswith("approved:")
    services.registration_decision_undo(registration=registration, by=reviewer)
    tasks.send_registration_decision(registration.pk, key)
    assert mail.outbox == []
    # Decided again, differently: that decision is announced, and the first one's run stays silent.
    with django_capture_on_commit_callbacks(execute=False):
        rejected = services.registration_reject(registration=registration, by=reviewer, reason="Fake identity")
    tasks.send_registration_decision(registration.pk, key)
    assert mail.outbox == []
    tasks.send_registration_decision(registration.pk, services.decision_key(rejected))
    assert len(mail.outbox) == 1 and "Fake identity" in mail.outbox[0].body


@pytest.mark.skipif(
    "data_folder_out" not in (celery_app.conf.broker_transport_options or {}),
    reason="reads the filesystem broker's messages",
)
def test_the_decision_email_is_queued_for_after_the_undo_window(reviewer, django_capture_on_commit_callbacks):
    registration = pending()
    outbox = Path(celery_app.conf.broker_transport_options["data_folder_out"])
    before = set(outbox.iterdir())
    celery_app.conf.task_always_eager = False
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_approve(registration=registration, by=reviewer)
    celery_app.conf.task_always_eager = True
    queued = []
    for path in set(outbox.iterdir()) - before:
        message = json.loads(path.read_bytes())
        path.unlink()  # no worker of a later test should run it
        if message["headers"]["task"] == "accounts.tasks.send_registration_decision":
            queued.append(message["headers"])
    registration.refresh_from_db()
    assert len(queued) == 1
    eta = timezone.datetime.fromisoformat(queued[0]["eta"])
    assert eta >= registration.decided_at + timedelta(seconds=10)
    assert mail.outbox == []


def test_deciding_a_registration_a_colleague_claimed_asks_first(as_, colleague):
    registration = pending()
    services.registration_claim(registration=registration, by=colleague)
    client = as_("reviewer")
    page = client.get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    assert "Decide anyway: Cora Colleague has claimed it" in page
    assert page.count('name="decide_anyway"') == 3
    response = client.post(f"/dashboard/registrations/{registration.pk}/approve/", {"approve-reason": "ok"})
    assert response.status_code == 200
    assert response.context["approve_form"].non_field_errors() == [
        "Cora Colleague has claimed this registration: tick “Decide anyway” to decide it yourself."
    ]
    assert status_of(registration) == RegistrationStatus.NEEDS_REVIEW
    client.post(f"/dashboard/registrations/{registration.pk}/approve/", {"approve-reason": "ok", "decide_anyway": "1"})
    assert status_of(registration) == RegistrationStatus.APPROVED


def test_deciding_ones_own_claim_asks_nothing(as_, reviewer):
    registration = pending()
    services.registration_claim(registration=registration, by=reviewer)
    page = as_("reviewer").get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    assert "decide_anyway" not in page
    as_("reviewer").post(f"/dashboard/registrations/{registration.pk}/approve/", {"approve-reason": "ok"})
    assert status_of(registration) == RegistrationStatus.APPROVED
