"""A reviewer who cannot decide escalates a registration to the administrators with a reason; from then on only an
administrator decides it, the deadline keeps running, and the guidelines are one click from the review page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import escalation, figures
from accounts.models import PENDING_STATUSES, Registration, RegistrationStatus
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError
from saypro.figures.registry import Span
from tests.accounts.helpers import submitted

pytestmark = pytest.mark.django_db

REASON = "The ID shows another name than the account; possibly a partner's shop account."


def escalate_page(client, registration: Registration, reason: str = REASON):
    return client.post(reverse("accounts:registration-escalate", args=[registration.pk]), {"escalate-reason": reason})


def test_a_reviewer_escalates_and_only_an_administrator_then_decides(
    client, reviewer, administrator, django_capture_on_commit_callbacks
):
    registration = submitted()
    assert registration.status in PENDING_STATUSES
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = escalate_page(client, registration)
    assert response.status_code == 302

    registration.refresh_from_db()
    assert registration.status in PENDING_STATUSES  # still waiting, on the same 48-hour clock
    assert (registration.escalated_by, registration.escalation_reason) == (reviewer, REASON)
    entry = AuditEntry.objects.get(action=escalation.ESCALATE_ACTION)
    assert entry.actor == reviewer and entry.reason == REASON
    alert = next(message for message in mail.outbox if "escalated" in message.subject)
    assert alert.to == [administrator.email] and REASON in alert.body
    assert reverse("accounts:registration", args=[registration.pk]) in alert.body

    page = client.get(reverse("accounts:registration", args=[registration.pk])).text
    assert 'data-testid="escalated"' in page and "An administrator decides it" in page
    assert reverse("accounts:registration-approve", args=[registration.pk]) not in page
    refused = client.post(
        reverse("accounts:registration-approve", args=[registration.pk]), {"approve-reason": "Looks fine"}
    )
    assert refused.status_code == 302
    registration.refresh_from_db()
    assert registration.status in PENDING_STATUSES

    client.force_login(administrator)
    page = client.get(reverse("accounts:registration", args=[registration.pk])).text
    assert "An administrator decides it" not in page and "Escalate to the administrators" not in page
    client.post(reverse("accounts:registration-approve", args=[registration.pk]), {"approve-reason": "Checked"})
    registration.refresh_from_db()
    assert (registration.status, registration.decided_by) == (RegistrationStatus.APPROVED, administrator)


@pytest.mark.parametrize("reason", ["", "   ", "unsure"])
def test_an_escalation_without_a_reason_is_a_form_error_that_keeps_what_was_typed(client, reviewer, reason):
    registration = submitted()
    client.force_login(reviewer)
    response = escalate_page(client, registration, reason)
    assert response.status_code == 200
    assert "field-error" in response.text or "errorlist" in response.text
    if reason.strip():
        assert reason in response.text
    registration.refresh_from_db()
    assert registration.escalated_at is None and not AuditEntry.objects.filter(action=escalation.ESCALATE_ACTION)


def test_a_registration_is_escalated_once_and_never_after_its_decision(reviewer, administrator):
    first, decided = submitted(), submitted(email="second@example.com", phone="+27 82 555 0102")
    escalation.registration_escalate(registration=first, by=reviewer, reason=REASON)
    with pytest.raises(DomainError, match="already escalated"):
        escalation.registration_escalate(registration=first, by=administrator, reason=REASON)
    Registration.objects.filter(pk=decided.pk).update(status=RegistrationStatus.REJECTED, decided_at=timezone.now())
    with pytest.raises(DomainError, match="already decided"):
        escalation.registration_escalate(registration=decided, by=reviewer, reason=REASON)
    assert AuditEntry.objects.filter(action=escalation.ESCALATE_ACTION).count() == 1


def test_the_escalation_figure_counts_the_periods_registrations_that_were_escalated(reviewer):
    escalated_one, plain = submitted(), submitted(email="second@example.com", phone="+27 82 555 0102")
    escalation.registration_escalate(registration=escalated_one, by=reviewer, reason=REASON)
    now = timezone.now()
    measure = figures.escalated(Span(start=now - timedelta(days=1), end=now + timedelta(seconds=1), now=now))
    assert (measure.value, measure.n, measure.pending) == (1.0, 1, 2)  # both still wait for a decision
    assert plain.escalated_at is None
    assert figures.escalated(Span(start=now - timedelta(days=9), end=now - timedelta(days=1), now=now)).n == 0


def test_the_guidelines_are_one_click_from_the_review_page_and_administrators_edit_them(
    client, reviewer, administrator
):
    registration = submitted()
    client.force_login(reviewer)
    detail = client.get(reverse("accounts:registration", args=[registration.pk])).text
    assert reverse("accounts:guidelines") in detail
    page = client.get(reverse("accounts:guidelines"))
    assert page.status_code == 200
    assert "<h2>When you cannot decide</h2>" in page.text and "<li>" in page.text
    assert "Edit them" not in page.text

    client.force_login(administrator)
    assert "Edit them" in client.get(reverse("accounts:guidelines")).text
    guidelines = escalation.guidelines()
    changed = client.post(
        reverse("admin:accounts_reviewguidelines_change", args=[guidelines.pk]),
        {"text": "Approve real people.\n\nRed flags\n- A burner e-mail domain"},
    )
    assert changed.status_code == 302
    page = client.get(reverse("accounts:guidelines")).text
    assert "<p>Approve real people.</p>" in page and "<h2>Red flags</h2>" in page
    assert "<li>A burner e-mail domain</li>" in page
    entry = AuditEntry.objects.get(action="review_guidelines.change")
    assert entry.actor == administrator


def test_the_guidelines_text_becomes_paragraphs_headed_lists_and_plain_lists():
    text = "One line\ncontinues.\n\nHeading\n- first\n  goes on\n- second\n\n- alone"
    assert escalation.guidelines_blocks(text) == [
        ("paragraph", ["One line continues."]),
        ("heading", ["Heading"]),
        ("list", ["first goes on", "second"]),
        ("list", ["alone"]),
    ]
