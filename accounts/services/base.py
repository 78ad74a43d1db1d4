"""What every registration service shares: the metric, limits, domain errors, the registration lock."""

from __future__ import annotations

from datetime import timedelta

from django.utils import formats, timezone

from accounts.models import (
    AccountEvent,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
)
from saypro.errors import DomainError, InvalidInput

METRIC = "registration.approval"
Status = RegistrationStatus
Code = RegistrationSignal.Code
Kind = AccountEvent.Kind

EMAIL_TAKEN = "An account with this e-mail address already exists. Sign in or reset your password."
PHONE_CODE_TTL = timedelta(minutes=10)
PHONE_CODE_MAX_ATTEMPTS = 5
ID_DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
ID_DOCUMENT_MAX_BYTES = 5 * 1024 * 1024


class AlreadyDecided(DomainError):
    code = "already_decided"

    def __init__(self, registration: Registration):
        who = registration.decided_by.get_username() if registration.decided_by else "automatic screening"
        when = (
            formats.date_format(timezone.localtime(registration.decided_at), "DATETIME_FORMAT")
            if registration.decided_at
            else ""
        )
        super().__init__(
            f"This registration was already {registration.get_status_display().lower()} by {who} at {when}."
        )


class DelayCauseRequired(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "This registration is past its 48-hour deadline: give the cause of the delay.",
            fields={"delay_cause": ["Choose the cause of the delay."]},
        )


def _lock(registration: Registration) -> Registration:
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("user", "decided_by")
        .get(pk=registration.pk)
    )
