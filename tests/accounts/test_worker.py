"""Registration work done by a real Celery worker on the configured broker."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Registration, RegistrationStatus
from tests.accounts.helpers import SIGNUP
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_submission_is_screened_by_the_worker_and_a_reviewer_decides(celery_worker_live, reviewer, settings):
    # The decision's e-mail waits out the reviewer's undo window: a second here, ten by default.
    settings.REGISTRATION_UNDO_SECONDS = 1
    response = APIClient().post("/api/v1/registrations/", {**SIGNUP, "email": "buyer@mailinator.com"}, format="json")
    assert response.status_code == 202
    registration = Registration.objects.get()

    def screened():
        registration.refresh_from_db()
        return registration.status == RegistrationStatus.NEEDS_REVIEW

    wait_for(screened)
    assert registration.screened_at is not None
    assert registration.signals.filter(code="disposable_email").exists()
    wait_for(lambda: any("under review" in m.body for m in mail.outbox))

    services.registration_reject(registration=registration, by=reviewer, reason="Disposable address")
    wait_for(lambda: any("not approved" in m.subject for m in mail.outbox))
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REJECTED
