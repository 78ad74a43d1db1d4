"""Screening and automatic decisions: findings, routing to review, escalation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts import screening
from accounts.models import (
    Registration,
    RegistrationSignal,
)
from accounts.services.base import Code, Status, _lock
from accounts.services.review import _decide
from saypro.audit.services import audit_record

# --- Screening and automatic decisions ----------------------------------------------------------------------


def _store_findings(registration: Registration, findings: list[screening.Finding]) -> None:
    registration.signals.exclude(code__in=screening.VERIFICATION_SIGNALS).delete()
    RegistrationSignal.objects.bulk_create(
        [
            RegistrationSignal(registration=registration, code=f.code, weight=f.weight, detail=f.detail[:300])
            for f in findings
        ],
        ignore_conflicts=True,
    )
    registration.risk_score = sum(registration.signals.values_list("weight", flat=True))


def _add_signal(registration: Registration, code: str, detail: str) -> None:
    _, created = RegistrationSignal.objects.get_or_create(
        registration=registration, code=code, defaults={"weight": screening.WEIGHTS[code], "detail": detail[:300]}
    )
    if created:
        registration.risk_score += screening.WEIGHTS[code]


def _route(registration: Registration) -> None:
    """After screening or verification: approve automatically, wait for verification, or send to review."""
    codes = set(registration.signals.values_list("code", flat=True))
    if screening.needs_review(codes, registration.risk_score):
        _set_status(registration, Status.NEEDS_REVIEW)
        return
    if registration.email_verified_at and registration.phone_verified_at:
        _decide(registration, status=Status.APPROVED, by=None, reason="Verified and low risk", automatic=True)
        return
    _set_status(registration, Status.VERIFYING)


def _set_status(registration: Registration, status: str) -> None:
    if registration.status != status:
        registration.status = status
        registration.save(update_fields=["status", "risk_score"])


def registration_screen(*, registration: Registration) -> Registration:
    """Run automated screening once per submission: a second delivery of the task finds the registration
    screened and does nothing (no second audit entry, no second routing). A registration put back into
    screening is screened afresh, its findings replaced."""
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status != Status.SCREENING:
            return registration
        _store_findings(registration, screening.screen(registration))
        registration.screened_at = timezone.now()
        registration.save(update_fields=["risk_score", "screened_at"])
        audit_record(
            actor=None,
            action="registration.screen",
            target=registration,
            data={
                "risk_score": registration.risk_score,
                "signals": list(registration.signals.values_list("code", flat=True)),
            },
        )
        _route(registration)
    return registration


def registration_escalate_unverified(*, registration: Registration) -> Registration:
    """A low-risk applicant who has not finished verification in time goes to a reviewer, never stuck."""
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status != Status.VERIFYING:
            return registration
        missing = [
            step
            for step, at in (("e-mail", registration.email_verified_at), ("phone", registration.phone_verified_at))
            if at is None
        ]
        _add_signal(registration, Code.UNVERIFIED, f"{' and '.join(missing)} not verified in time")
        _set_status(registration, Status.NEEDS_REVIEW)
        audit_record(actor=None, action="registration.escalate", target=registration, reason="verification incomplete")
    return registration


def registration_verification_unavailable(*, registration: Registration, detail: str) -> Registration:
    """The SMS gateway (or another verifier) is down: fall back to manual review."""
    with transaction.atomic():
        registration = _lock(registration)
        _add_signal(registration, Code.VERIFICATION_UNAVAILABLE, detail)
        registration.save(update_fields=["risk_score"])
        if registration.status in (Status.SCREENING, Status.VERIFYING):
            _set_status(registration, Status.NEEDS_REVIEW)
        audit_record(actor=None, action="registration.verification_unavailable", target=registration, reason=detail)
    return registration
