"""Verification: e-mail links, phone codes, ID documents."""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    PhoneCode,
    Registration,
    User,
)
from accounts.services.base import PHONE_CODE_MAX_ATTEMPTS, PHONE_CODE_TTL, Status, _lock
from accounts.services.screening import _route
from accounts.tokens import user_for_email_token
from saypro import ratelimit
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput

# --- Verification ---------------------------------------------------------------------------------------


def email_verification_send(*, registration: Registration, rate_limited: bool = True) -> None:
    if registration.email_verified_at:
        return
    if rate_limited:
        ratelimit.check(
            f"email-verify:{registration.pk}",
            limit=3,
            window=3600,
            message="Too many verification e-mails: wait an hour before asking again.",
        )
    # The request's time names the e-mail: a second delivery of this task sends nothing, a new request sends anew.
    after_commit("accounts.tasks.send_email_verification", registration.pk, timezone.now().isoformat())


def email_verify(*, token: str) -> Registration:
    user = user_for_email_token(token)
    if user is None:
        raise InvalidInput(
            "This verification link is invalid, expired or already used.",
            fields={"token": ["Invalid, expired or already used."]},
            code="invalid_token",
        )
    with transaction.atomic():
        registration = Registration.objects.select_for_update(of=("self",)).select_related("user").get(user=user)
        now = timezone.now()
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
        if registration.email_verified_at is None:
            registration.email_verified_at = now
            registration.save(update_fields=["email_verified_at"])
        audit_record(actor=user, action="registration.email_verified", target=registration)
        if registration.status == Status.VERIFYING:
            _route(registration)
    return registration


def phone_code_send(*, registration: Registration) -> PhoneCode:
    if registration.phone_verified_at:
        raise InvalidInput("This phone number is already verified.", code="already_verified")
    if not registration.phone_e164:
        raise InvalidInput("Add a phone number first.", fields={"phone": ["Add a phone number first."]})
    ratelimit.check(
        f"phone-send:{registration.pk}",
        limit=1,
        window=60,
        message="A code was just sent: wait a minute before asking for another.",
    )
    ratelimit.check(
        f"phone-send-hour:{registration.pk}",
        limit=5,
        window=3600,
        message="Too many codes requested: wait an hour before asking again.",
    )
    with transaction.atomic():
        now = timezone.now()
        # Only the newest code counts: older unused codes stop working.
        PhoneCode.objects.filter(registration=registration, consumed_at__isnull=True).update(expires_at=now)
        phone_code = PhoneCode.objects.create(
            registration=registration,
            phone_e164=registration.phone_e164,
            code_hash="",
            sent_at=now,
            expires_at=now + PHONE_CODE_TTL,
        )
        after_commit("accounts.tasks.deliver_phone_code", phone_code.pk)
    return phone_code


def phone_code_issue(*, phone_code: PhoneCode) -> str | None:
    """Generate the code for a pending PhoneCode exactly once; None when it was already issued."""
    code = f"{secrets.randbelow(10**6):06d}"
    claimed = PhoneCode.objects.filter(pk=phone_code.pk, code_hash="").update(code_hash=make_password(code))
    return code if claimed == 1 else None


def phone_code_confirm(*, registration: Registration, code: str) -> Registration:
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput("Enter the 6-digit code.", fields={"code": ["Enter the 6 digits from the SMS."]})
    attempts_left: int | None = None
    with transaction.atomic():
        registration = _lock(registration)
        if registration.phone_verified_at:
            return registration
        now = timezone.now()
        phone_code = (
            PhoneCode.objects.select_for_update()
            .filter(registration=registration, consumed_at__isnull=True, expires_at__gt=now)
            .exclude(code_hash="")
            .order_by("-sent_at")
            .first()
        )
        if phone_code is None:
            raise InvalidInput(
                "The code has expired: ask for a new one.",
                fields={"code": ["Expired: ask for a new code."]},
                code="code_expired",
            )
        if phone_code.attempts >= PHONE_CODE_MAX_ATTEMPTS:
            raise InvalidInput(
                "Too many wrong codes: ask for a new one.",
                fields={"code": ["Too many attempts: ask for a new code."]},
                code="code_locked",
            )
        phone_code.attempts += 1
        if check_password(code, phone_code.code_hash):
            phone_code.consumed_at = now
            phone_code.save(update_fields=["attempts", "consumed_at"])
            registration.phone_verified_at = now
            registration.save(update_fields=["phone_verified_at"])
            registration.user.phone_verified_at = now
            registration.user.save(update_fields=["phone_verified_at"])
            audit_record(actor=registration.user, action="registration.phone_verified", target=registration)
            if registration.status == Status.VERIFYING:
                _route(registration)
        else:
            # The failed attempt is committed before the error is raised, so guessing runs out of tries.
            phone_code.save(update_fields=["attempts"])
            attempts_left = PHONE_CODE_MAX_ATTEMPTS - phone_code.attempts
    if attempts_left is not None:
        raise _WrongCode(attempts_left)
    return registration


def registration_verify_id(*, registration: Registration, by: User) -> Registration:
    """A reviewer has compared the uploaded ID document with the applicant: recorded on the user.

    Automatic approval rests on e-mail and phone alone, so routing does not change here. The verified-user badge
    reads `User.id_verified_at` in the database (moderation.badges), so it holds from this commit on."""
    if not by.has_perm("accounts.review_registration"):
        raise DomainError("Only registration reviewers can record an ID check.", code="not_allowed")
    with transaction.atomic():
        registration = _lock(registration)
        user = registration.user
        if user.id_verified_at is not None:
            return registration
        if not registration.id_document:
            raise DomainError("The applicant has not uploaded an ID document.", code="no_id_document")
        now = timezone.now()
        # Compare-and-set as well as the row lock (SQLite has no SELECT … FOR UPDATE): two reviewers clicking at
        # once leave one check and one audit entry.
        if User.objects.filter(pk=user.pk, id_verified_at__isnull=True).update(id_verified_at=now) != 1:
            user.refresh_from_db(fields=["id_verified_at"])
            return registration
        user.id_verified_at = now
        audit_record(actor=by, action="registration.id_verified", target=registration)
    return registration


class _WrongCode(InvalidInput):
    def __init__(self, left: int):
        message = (
            f"Wrong code: {left} attempt{'s' if left != 1 else ''} left." if left else "Wrong code: ask for a new one."
        )
        super().__init__(message, fields={"code": [message]}, code="wrong_code")
