"""Celery tasks for registrations. Each takes ids, loads rows, calls a service, and is safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from saypro.mail import send_template
from saypro.sla import services as sla

from . import roles, services
from .models import PhoneCode, Registration, RegistrationStatus
from .sms import SmsUnavailable, sms_send
from .tokens import make_email_token

STATUS_PATH = "/register/status/"


def _registration(registration_id: int) -> Registration | None:
    return Registration.objects.select_related("user").filter(pk=registration_id).first()


@shared_task
def screen_registration(registration_id: int) -> None:
    registration = _registration(registration_id)
    if registration is not None:
        services.registration_screen(registration=registration)


@shared_task
def send_registration_acknowledgement(registration_id: int) -> None:
    registration = _registration(registration_id)
    if registration is None:
        return
    clock = sla.clock_open_for(metric=services.METRIC, target=registration)
    deadline = clock.due_at if clock else registration.submitted_at
    user = registration.user
    send_template(
        to=[user.email],
        kind="registration.acknowledgement",
        template="accounts/email/acknowledgement.txt",
        context={
            "name": user.get_short_name(),
            "deadline": timezone.localtime(deadline) if deadline else None,
            "email_verified": registration.email_verified_at is not None,
            "verify_url": f"{settings.SITE_URL}/register/verify-email/{make_email_token(user)}/",
            "status_url": f"{settings.SITE_URL}{STATUS_PATH}",
        },
        once_key=f"registration-ack:{registration.pk}",
    )


@shared_task
def send_email_verification(registration_id: int, requested_at: str = "") -> None:
    registration = _registration(registration_id)
    if registration is None or registration.email_verified_at:
        return
    user = registration.user
    send_template(
        to=[user.email],
        kind="registration.verify_email",
        template="accounts/email/verify_email.txt",
        context={
            "name": user.get_short_name(),
            "verify_url": f"{settings.SITE_URL}/register/verify-email/{make_email_token(user)}/",
            "max_age_hours": settings.EMAIL_VERIFICATION_MAX_AGE_HOURS,
        },
        once_key=f"verify-email:{registration.pk}:{requested_at}" if requested_at else "",
    )


@shared_task
def deliver_phone_code(phone_code_id: int) -> None:
    phone_code = PhoneCode.objects.select_related("registration").filter(pk=phone_code_id).first()
    if phone_code is None or phone_code.consumed_at or phone_code.expires_at <= timezone.now():
        return
    code = services.phone_code_issue(phone_code=phone_code)
    if code is None:
        return
    try:
        sms_send(
            kind="registration.phone_code",
            to=phone_code.phone_e164,
            body=f"Your SayPro verification code is {code}. It expires in 10 minutes.",
        )
    except SmsUnavailable as exc:
        services.registration_verification_unavailable(
            registration=phone_code.registration, detail=f"SMS gateway unavailable: {exc}"[:300]
        )


@shared_task
def send_registration_decision(registration_id: int, decision: str = "") -> None:
    """Queued once the reviewer's undo window is over; `decision` (services.decision_key) names the decision it
    announces, so that one undone in the meantime, or undone and taken again, is not announced by this run."""
    registration = _registration(registration_id)
    if registration is None or registration.status not in (RegistrationStatus.APPROVED, RegistrationStatus.REJECTED):
        return
    if decision and services.decision_key(registration) != decision:
        return
    approved = registration.status == RegistrationStatus.APPROVED
    send_template(
        to=[registration.user.email],
        kind="registration.decision",
        template="accounts/email/approved.txt" if approved else "accounts/email/rejected.txt",
        context={"name": registration.user.get_short_name(), "reason": registration.decision_reason},
        once_key=f"registration-decision:{registration.pk}:{decision}"
        if decision
        else f"registration-decision:{registration.pk}",
    )


@shared_task
def send_registration_info_request(registration_id: int, requested_at: str = "") -> None:
    registration = _registration(registration_id)
    if registration is None or registration.status != RegistrationStatus.INFO_REQUESTED:
        return
    send_template(
        to=[registration.user.email],
        kind="registration.info_request",
        template="accounts/email/info_request.txt",
        context={
            "name": registration.user.get_short_name(),
            "message": registration.info_request,
            "status_url": f"{settings.SITE_URL}{STATUS_PATH}",
        },
        once_key=f"registration-info:{registration.pk}:{requested_at}" if requested_at else "",
    )


@shared_task
def registrations_escalate_unverified() -> int:
    """Hand low-risk applicants who have not verified within the grace period to the reviewers."""
    cutoff = timezone.now() - timedelta(hours=settings.REGISTRATION_VERIFICATION_GRACE_HOURS)
    stale = Registration.objects.filter(status=RegistrationStatus.VERIFYING, submitted_at__lte=cutoff)
    count = 0
    for registration in stale.iterator(chunk_size=200):
        services.registration_escalate_unverified(registration=registration)
        count += 1
    return count


def staff_emails(*group_names: str) -> list[str]:
    return list(
        Group.objects.filter(name__in=group_names, user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )


# --- Accounts: notices, activity flush, suspension expiry ----------------------------------------------------

NOTICE_TEMPLATES = {
    "suspended": "accounts/email/account_suspended.txt",
    "banned": "accounts/email/account_banned.txt",
    "reinstated": "accounts/email/account_reinstated.txt",
    "deactivated": "accounts/email/account_deactivated.txt",
    "deleted": "accounts/email/account_deleted.txt",
    "password_changed": "accounts/email/password_changed.txt",
    "email_changed": "accounts/email/email_changed.txt",
    "email_change_confirm": "accounts/email/email_change_confirm.txt",
    "password_reset": "accounts/email/password_reset.txt",
    "suspicious": "accounts/email/suspicious_activity.txt",
    "two_factor_enabled": "accounts/email/two_factor_enabled.txt",
    "two_factor_disabled": "accounts/email/two_factor_disabled.txt",
    "signup_attempt": "accounts/email/signup_attempt.txt",
}


@shared_task
def send_account_notice(user_id: int, notice: str, email: str, context: dict | None = None, once_key: str = "") -> None:
    """Tell the user about a change to their account, at the address they had when it happened (a notice about
    an e-mail change goes to the old address; one about a deletion to the address before anonymisation)."""
    from .models import User

    user = User.objects.filter(pk=user_id).first()
    name = user.get_short_name() if user is not None and "@deleted.invalid" not in user.email else ""
    send_template(
        to=[email],
        kind=f"account.{notice}",
        template=NOTICE_TEMPLATES[notice],
        context={"name": name or "there", "site_url": settings.SITE_URL, **(context or {})},
        once_key=once_key,
    )


@shared_task
def activity_flush(settle_seconds: float | None = None) -> int:
    from . import activity

    return activity.activity_flush(settle_seconds=activity.SETTLE_SECONDS if settle_seconds is None else settle_seconds)


@shared_task
def sessions_flush_last_seen() -> int:
    from .security import sessions_flush

    return sessions_flush()


@shared_task
def suspensions_expire() -> int:
    return services.suspensions_expire()


@shared_task
def send_registration_escalation(registration_id: int) -> None:
    registration = Registration.objects.select_related("user", "escalated_by").filter(pk=registration_id).first()
    if registration is None or registration.escalated_at is None:
        return
    clock = sla.clock_open_for(metric=services.METRIC, target=registration)
    send_template(
        to=staff_emails(roles.ADMINISTRATOR),
        kind="registration.escalated",
        template="accounts/email/escalated.txt",
        context={
            "registration": registration,
            "by": registration.escalated_by.get_full_name() if registration.escalated_by else "A reviewer",
            "reason": registration.escalation_reason,
            "due_at": timezone.localtime(clock.due_at) if clock else None,
            "url": f"{settings.SITE_URL}{reverse('accounts:registration', args=[registration.pk])}",
        },
        once_key=f"registration-escalated:{registration.pk}:{registration.escalated_at.isoformat()}",
    )
