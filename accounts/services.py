"""Every write to registrations: sign-up, verification, screening, review decisions and block rules.

Each transition locks its row, guards the current state, records an audit entry and starts or stops the
`registration.approval` clock. E-mail, SMS and screening run after commit in Celery tasks.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import formats, timezone

from saypro import ratelimit
from saypro.audit.selectors import audit_for_object
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.sla import services as sla
from saypro.uploads import sniff, stored_name

from . import roles, screening
from .events import SYSTEM, Client, event_record, notice_send
from .identity import canonical_email, device_type, fingerprint, normalise_phone, subnet_of
from .models import (
    DECIDED_STATUSES,
    PENDING_STATUSES,
    AccountEvent,
    AccountPreferences,
    AccountSession,
    AccountStatus,
    AgeBand,
    BlockRule,
    DelayCause,
    IdentityFingerprint,
    PhoneCode,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    User,
)
from .tokens import user_for_email_token

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


# --- Sign-up ------------------------------------------------------------------------------------------


UNDER_AGE = "SayPro is for people aged 18 and over: you cannot open an account."
CONSENT_NEEDED = "Read the privacy notice and accept the terms of use to sign up."


def _clean_signup(
    *,
    email: str,
    password: str,
    full_name: str,
    phone: str,
    country: str,
    region: str,
    language: str,
    age_band: str,
    accepted_terms: bool,
) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    if not accepted_terms:
        errors["accepted_terms"] = [CONSENT_NEEDED]
    email = (email or "").strip()
    try:
        validate_email(email)
        if len(email) > 254:
            raise ValidationError("Enter an address of at most 254 characters.")
    except ValidationError as exc:
        errors["email"] = list(exc.messages)
    phone_e164 = ""
    try:
        phone_e164 = normalise_phone(phone or "", country)
    except ValueError as exc:
        errors["phone"] = [str(exc)]
    limits = {"full_name": (full_name, 150), "region": (region, 100), "language": (language, 10)}
    for name, (value, limit) in limits.items():
        if len(value or "") > limit:
            errors[name] = [f"Use at most {limit} characters."]
    if country and (len(country) != 2 or not country.isalpha()):
        errors["country"] = ["Use the two-letter country code, e.g. ZA."]
    if age_band and age_band not in AgeBand.values:
        errors["age_band"] = ["Choose one of the listed age bands."]
    elif age_band == AgeBand.UNDER_18:
        errors["age_band"] = [UNDER_AGE]
    try:
        validate_password(password or "", User(email=email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise InvalidInput("The sign-up has invalid fields.", fields=errors)
    return email.lower(), phone_e164


def registration_start(
    *,
    email: str,
    password: str,
    full_name: str = "",
    phone: str = "",
    country: str = "",
    region: str = "",
    language: str = "en",
    age_band: str = "",
    accepted_terms: bool,
    ip: str | None = None,
    user_agent: str = "",
    form_seconds: float | None = None,
    honeypot: str = "",
    campaign: str = "",
    id_document: UploadedFile | None = None,
) -> Registration:
    """Open an account and its registration. The applicant must be 18 or over and accept the privacy notice and
    terms of use; their versions are recorded with the registration, and the consent in their privacy choices."""
    email, phone_e164 = _clean_signup(
        email=email,
        password=password,
        full_name=full_name,
        phone=phone,
        country=country,
        region=region,
        language=language,
        age_band=age_band,
        accepted_terms=accepted_terms,
    )
    _clean_id_document(id_document)
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                full_name=full_name.strip(),
                phone=phone_e164,
                country=country.upper(),
                region=region.strip(),
                language=language or "en",
                age_band=age_band,
            )
            registration = Registration.objects.create(
                user=user,
                started_at=now,
                canonical_email=canonical_email(email),
                phone_e164=phone_e164,
                ip_address=ip,
                subnet=subnet_of(ip),
                user_agent=user_agent[:400],
                device_type=device_type(user_agent),
                form_seconds=form_seconds,
                honeypot_filled=bool(honeypot),
                # A campaign code comes from a link's query string: printable characters only (no NUL, which
                # PostgreSQL refuses), and no longer than its column.
                campaign="".join(ch for ch in campaign if ch.isprintable())[:50],
                profile_completed_at=now if screening.profile_is_complete(user) else None,
                consented_at=now,
                privacy_version=settings.PRIVACY_POLICY_VERSION,
                terms_version=settings.TERMS_VERSION,
            )
            AccountPreferences.objects.create(
                user=user,
                data_processing_consent=True,
                consent_policy_version=settings.PRIVACY_POLICY_VERSION,
                consent_at=now,
            )

            if id_document is not None:
                # The upload path needs the registration's id, so the file is attached after the insert.
                registration.id_document = id_document
                registration.save(update_fields=["id_document"])
            audit_record(actor=user, action="registration.start", target=registration)
    except IntegrityError:
        # Two sign-ups with one address raced past the existence check: the unique index decided.
        raise InvalidInput("The sign-up has invalid fields.", fields={"email": [EMAIL_TAKEN]}) from None
    transaction.on_commit(lambda: email_verification_send(registration=registration, rate_limited=False))
    return registration


def registration_request(*, email: str, password: str, **values: Any) -> Registration | None:
    """Sign-up that does not tell whether the address already has an account (the API's, where anyone can ask).

    A new address gets its registration and verification link; an address that has an account gets the same
    answer, and its owner an e-mail saying someone tried to sign up with it (sign in, or reset the password). Any
    other invalid field is reported exactly as for a new address. Returns None for a taken address."""
    try:
        return registration_start(email=email, password=password, **values)
    except InvalidInput as exc:
        if exc.fields.get("email") != [EMAIL_TAKEN]:
            raise
        others = {name: messages for name, messages in exc.fields.items() if name != "email"}
        if others:
            raise InvalidInput(exc.message, fields=others) from None
    owner = User.objects.filter(email__iexact=email.strip()).first()
    # As long as creating the account would take, so the answer's timing does not tell either.
    make_password(password)
    if owner is not None:
        # At most one such e-mail per account and hour, however often someone tries.
        hour = timezone.now().strftime("%Y%m%d%H")
        notice_send(
            user=owner,
            notice="signup_attempt",
            context={"at": local_text(timezone.now())},
            once_key=f"signup-attempt:{owner.pk}:{hour}",
        )
    return None


def registration_update_profile(*, registration: Registration, **fields: str) -> Registration:
    """Complete the applicant's profile before submission (the funnel's "profile completed" step)."""
    allowed = {"full_name", "country", "region", "language", "age_band"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput("Unknown fields.", fields={name: ["This field cannot be changed here."] for name in unknown})
    with transaction.atomic():
        registration = _lock(registration)
        user = registration.user
        errors: dict[str, list[str]] = {}
        if "age_band" in fields and fields["age_band"] and fields["age_band"] not in AgeBand.values:
            errors["age_band"] = ["Choose one of the listed age bands."]
        if (
            "country" in fields
            and fields["country"]
            and (len(fields["country"]) != 2 or not fields["country"].isalpha())
        ):
            errors["country"] = ["Use the two-letter country code, e.g. ZA."]
        for name, limit in {"full_name": 150, "region": 100, "language": 10}.items():
            if len(fields.get(name, "")) > limit:
                errors[name] = [f"Use at most {limit} characters."]
        if errors:
            raise InvalidInput("The profile has invalid fields.", fields=errors)
        for name, value in fields.items():
            setattr(user, name, value.upper() if name == "country" else value.strip())
        user.save(update_fields=list(fields))
        if registration.profile_completed_at is None and screening.profile_is_complete(user):
            registration.profile_completed_at = timezone.now()
            registration.save(update_fields=["profile_completed_at"])
        return registration


def registration_submit(*, registration: Registration) -> Registration:
    """Submit for approval: the 48-hour clock starts now; the applicant is told the deadline at once."""
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status != Status.STARTED:
            return registration
        now = timezone.now()
        registration.status = Status.SCREENING
        registration.submitted_at = now
        registration.save(update_fields=["status", "submitted_at"])
        sla.clock_start(metric=METRIC, target=registration, at=now)
        audit_record(actor=registration.user, action="registration.submit", target=registration)
        after_commit("accounts.tasks.send_registration_acknowledgement", registration.pk)
        after_commit("accounts.tasks.screen_registration", registration.pk)
    return registration


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


# --- Review decisions ---------------------------------------------------------------------------------


def _check_delay_cause(registration: Registration, delay_cause: str, delay_note: str) -> bool:
    """Deciding after the deadline requires a root cause, so that late decisions can be explained in reports.

    Returns whether the decision is late; a cause given for an on-time decision is not recorded."""
    clock = sla.clock_open_for(metric=METRIC, target=registration)
    late = clock is not None and (
        clock.breached_at is not None or (clock.state == "running" and timezone.now() >= clock.due_at)
    )
    if not late:
        return False
    if delay_cause not in DelayCause.values:
        raise DelayCauseRequired()
    if delay_cause == DelayCause.OTHER and not delay_note.strip():
        raise InvalidInput("Describe the cause of the delay.", fields={"delay_note": ["Describe the cause."]})
    return True


def _decide(
    registration: Registration,
    *,
    status: str,
    by: User | None,
    reason: str,
    automatic: bool = False,
    delay_cause: str = "",
    delay_note: str = "",
) -> Registration:
    """Record a decision on a locked registration. The caller holds the row lock."""
    if registration.status in DECIDED_STATUSES:
        raise AlreadyDecided(registration)
    if registration.escalated_at is not None and by is not None and not is_administrator(by):
        raise DomainError(
            f"Registration #{registration.pk} was escalated to the administrators: an administrator decides it.",
            code="escalated",
        )
    now = timezone.now()
    # Compare-and-set on the status as well as the row lock: SQLite has no SELECT … FOR UPDATE, and this
    # makes "exactly one decision" hold on every database.
    claimed = Registration.objects.filter(pk=registration.pk, status__in=PENDING_STATUSES).update(
        status=status,
        decided_at=now,
        decided_by=by,
        decision_reason=reason,
        auto_approved=automatic,
        delay_cause=delay_cause,
        delay_note=delay_note[:300],
    )
    if claimed != 1:
        registration.refresh_from_db()
        raise AlreadyDecided(registration)
    previous = registration.status
    registration.refresh_from_db()
    sla.clock_stop(metric=METRIC, target=registration, at=now)
    action = "registration.approve" if status == Status.APPROVED else "registration.reject"
    if automatic:
        action = "registration.auto_approve"
    # The status it had before, for an undo; the fingerprints it added, so that an undo removes only those.
    data: dict[str, Any] = {"from": previous}
    if delay_cause:
        data["delay_cause"] = delay_cause
    if status == Status.REJECTED:
        data["fingerprints"] = _keep_fingerprints(registration, reason="rejected")
    audit_record(actor=by, action=action, target=registration, reason=reason, data=data)
    # The applicant hears of the decision once it can no longer be undone; the task checks that it still stands.
    countdown = None if automatic else settings.REGISTRATION_UNDO_SECONDS
    after_commit(
        "accounts.tasks.send_registration_decision",
        registration.pk,
        decision_key(registration),
        countdown=countdown,
    )
    return registration


def decision_key(registration: Registration) -> str:
    """Names one decision: a decision undone and taken again is another one, with its own e-mail."""
    return f"{registration.status}:{registration.decided_at.isoformat() if registration.decided_at else ''}"


class UndoRefused(DomainError):
    code = "undo_refused"


def registration_decision_undo(*, registration: Registration, by: User) -> Registration:
    """Take back a decision its reviewer took moments ago (REGISTRATION_UNDO_SECONDS): the registration is pending
    again in the state it was in, its clock counts again, and the applicant is never told of the decision.

    Refused after the window, for someone else's decision, and when anyone acted on the registration since."""
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status not in DECIDED_STATUSES:
            raise UndoRefused("This registration is not decided: there is nothing to undo.")
        if registration.decided_by_id != by.pk:
            raise UndoRefused("Only the reviewer who decided can undo the decision.")
        now = timezone.now()
        window = timedelta(seconds=settings.REGISTRATION_UNDO_SECONDS)
        if registration.decided_at is None or now > registration.decided_at + window:
            raise UndoRefused("Too late to undo: the decision stands and the applicant is being told.")
        decision = audit_for_object(registration).order_by("-at", "-pk").first()
        expected = "registration.approve" if registration.status == Status.APPROVED else "registration.reject"
        if decision is None or decision.action != expected or decision.actor_id != by.pk:
            raise UndoRefused("Someone acted on this registration since the decision: it can no longer be undone.")
        previous = decision.data.get("from") or Status.NEEDS_REVIEW
        if previous not in PENDING_STATUSES:
            previous = Status.NEEDS_REVIEW
        reverted = Registration.objects.filter(pk=registration.pk, status=registration.status).update(
            status=previous,
            decided_at=None,
            decided_by=None,
            decision_reason="",
            auto_approved=False,
            delay_cause="",
            delay_note="",
        )
        if reverted != 1:
            raise UndoRefused("Someone acted on this registration since the decision: it can no longer be undone.")
        registration.refresh_from_db()
        digests = decision.data.get("fingerprints") or []
        if digests:
            IdentityFingerprint.objects.filter(reason="rejected", digest__in=digests).delete()
        sla.clock_reopen(metric=METRIC, target=registration, at=now)
        audit_record(
            actor=by,
            action="registration.undo",
            target=registration,
            data={"undone": decision.action, "to": previous},
        )
    return registration


def _keep_fingerprints(registration: Registration, *, reason: str) -> list[str]:
    """Keep the identity's fingerprints; returns the digests that were new (an undo removes those only)."""
    rows = [IdentityFingerprint(kind="email", digest=fingerprint("email", registration.canonical_email), reason=reason)]
    if registration.phone_e164:
        rows.append(
            IdentityFingerprint(kind="phone", digest=fingerprint("phone", registration.phone_e164), reason=reason)
        )
    known = set(
        IdentityFingerprint.objects.filter(digest__in=[row.digest for row in rows]).values_list("digest", flat=True)
    )
    IdentityFingerprint.objects.bulk_create(rows, ignore_conflicts=True)
    return [row.digest for row in rows if row.digest not in known]


def _same_decision(registration: Registration, status: str, by: User | None) -> bool:
    """A repeated click by the same reviewer is not a conflict: the decision already stands."""
    return registration.status == status and registration.decided_by_id == (by.pk if by else None)


def registration_approve(
    *, registration: Registration, by: User, reason: str = "", delay_cause: str = "", delay_note: str = ""
) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if _same_decision(registration, Status.APPROVED, by):
            return registration
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.status == Status.STARTED:
            raise DomainError("This registration has not been submitted yet.", code="not_submitted")
        late = _check_delay_cause(registration, delay_cause, delay_note)
        return _decide(
            registration,
            status=Status.APPROVED,
            by=by,
            reason=reason.strip(),
            delay_cause=delay_cause if late else "",
            delay_note=delay_note if late else "",
        )


def registration_reject(
    *, registration: Registration, by: User, reason: str, delay_cause: str = "", delay_note: str = ""
) -> Registration:
    if not (reason or "").strip():
        raise InvalidInput(
            "Give the reason for the rejection; it is sent to the applicant.",
            fields={"reason": ["A reason is required."]},
        )
    with transaction.atomic():
        registration = _lock(registration)
        if _same_decision(registration, Status.REJECTED, by):
            return registration
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        late = _check_delay_cause(registration, delay_cause, delay_note)
        return _decide(
            registration,
            status=Status.REJECTED,
            by=by,
            reason=reason.strip(),
            delay_cause=delay_cause if late else "",
            delay_note=delay_note if late else "",
        )


def registration_request_info(*, registration: Registration, by: User, message: str) -> Registration:
    """Ask the applicant for more; the clock pauses while the applicant owes the answer."""
    if not (message or "").strip():
        raise InvalidInput("Say what the applicant should send.", fields={"message": ["A message is required."]})
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.status not in PENDING_STATUSES:
            raise DomainError("This registration has not been submitted yet.", code="not_submitted")
        registration.status = Status.INFO_REQUESTED
        registration.info_request = message.strip()
        registration.info_response = ""
        registration.save(update_fields=["status", "info_request", "info_response"])
        sla.clock_pause(metric=METRIC, target=registration)
        audit_record(actor=by, action="registration.request_info", target=registration, reason=message.strip())
        after_commit("accounts.tasks.send_registration_info_request", registration.pk, timezone.now().isoformat())
    return registration


def _clean_id_document(document: UploadedFile | None) -> None:
    if document is None:
        return
    if document.size is not None and document.size > ID_DOCUMENT_MAX_BYTES:
        raise InvalidInput("The document is too large.", fields={"id_document": ["Upload a file of at most 5 MB."]})
    # The type the client declares is its word only: the file's first bytes say what it is.
    content_type = sniff(document)
    if content_type not in ID_DOCUMENT_TYPES:
        raise InvalidInput("Unsupported document type.", fields={"id_document": ["Upload a PDF, JPEG or PNG file."]})
    # Reviewers are served the file with the type its name's extension gives, so the name must agree.
    document.name = stored_name(document.name or "id-document", content_type)


def registration_provide_info(
    *, registration: Registration, message: str, id_document: UploadedFile | None = None
) -> Registration:
    """The applicant answers a request for information: back to the reviewers, and the clock runs again."""
    if not (message or "").strip() and id_document is None:
        raise InvalidInput("Write an answer or attach a document.", fields={"message": ["Write an answer."]})
    if len(message or "") > 5000:
        raise InvalidInput("The answer is too long.", fields={"message": ["Use at most 5,000 characters."]})
    _clean_id_document(id_document)
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status != Status.INFO_REQUESTED:
            raise DomainError("No information has been requested.", code="not_requested")
        registration.status = Status.NEEDS_REVIEW
        registration.info_response = (message or "").strip()
        fields = ["status", "info_response"]
        if id_document is not None:
            registration.id_document = id_document
            fields.append("id_document")
        registration.save(update_fields=fields)
        sla.clock_resume(metric=METRIC, target=registration)
        audit_record(actor=registration.user, action="registration.provide_info", target=registration)
    return registration


def registration_claim(*, registration: Registration, by: User) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.claimed_by_id == by.pk:
            return registration
        if registration.claimed_by_id is not None:
            raise DomainError(f"Already claimed by {registration.claimed_by}.", code="already_claimed")
        registration.claimed_by = by
        registration.claimed_at = timezone.now()
        registration.save(update_fields=["claimed_by", "claimed_at"])
        audit_record(actor=by, action="registration.claim", target=registration)
    return registration


def registration_release(*, registration: Registration, by: User) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if registration.claimed_by_id is None:
            return registration
        registration.claimed_by = None
        registration.claimed_at = None
        registration.save(update_fields=["claimed_by", "claimed_at"])
        audit_record(actor=by, action="registration.release", target=registration)
    return registration


@dataclass
class BulkResult:
    decided: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def registrations_bulk_decide(
    *, ids: list[int], by: User, decision: str, reason: str = "", delay_cause: str = "", delay_note: str = ""
) -> BulkResult:
    """Decide many registrations; each is its own transaction, and one refusal does not stop the others."""
    if decision not in {"approve", "reject"}:
        raise InvalidInput("Choose approve or reject.", fields={"decision": ["Choose approve or reject."]})
    if decision == "reject" and not (reason or "").strip():
        raise InvalidInput("Give the reason for the rejection.", fields={"reason": ["A reason is required."]})
    result = BulkResult()
    registrations = Registration.objects.in_bulk(ids)
    for pk in ids:
        registration = registrations.get(pk)
        if registration is None:
            result.skipped[pk] = "not found"
            continue
        try:
            if decision == "approve":
                registration_approve(
                    registration=registration, by=by, reason=reason, delay_cause=delay_cause, delay_note=delay_note
                )
            else:
                registration_reject(
                    registration=registration, by=by, reason=reason, delay_cause=delay_cause, delay_note=delay_note
                )
        except DomainError as exc:
            result.skipped[pk] = exc.message
        else:
            result.decided.append(pk)
    return result


# --- Block rules ------------------------------------------------------------------------------------------


def block_rule_create(*, kind: str, value: str, reason: str, by: User, expires_at: Any = None) -> BlockRule:
    errors: dict[str, list[str]] = {}
    value = (value or "").strip().lower()
    if kind not in BlockRule.Kind.values:
        errors["kind"] = ["Choose e-mail domain, IP range or keyword."]
    if not value:
        errors["value"] = ["A value is required."]
    elif kind == BlockRule.Kind.IP_RANGE:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            errors["value"] = ["Enter an IP address or a CIDR range, e.g. 203.0.113.0/24."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the rule exists."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise InvalidInput("The block rule has invalid fields.", fields=errors)
    with transaction.atomic():
        rule = BlockRule.objects.create(
            kind=kind, value=value, reason=reason.strip(), expires_at=expires_at, created_by=by
        )
        audit_record(actor=by, action="blockrule.create", target=rule, reason=rule.reason)
    return rule


def block_rule_preview(*, rule: BlockRule) -> QuerySet[Registration]:
    """Pending registrations the rule would catch."""
    pending = Registration.objects.filter(status__in=PENDING_STATUSES).select_related("user")
    value = rule.value.strip().lower()
    if rule.kind == BlockRule.Kind.EMAIL_DOMAIN:
        return pending.filter(user__email__iendswith=f"@{value}") | pending.filter(user__email__iendswith=f".{value}")
    if rule.kind == BlockRule.Kind.KEYWORD:
        return pending.filter(user__email__icontains=value) | pending.filter(user__full_name__icontains=value)
    # CIDR matching is not portable SQL; the pending queue is small, so match its addresses here.
    candidates = pending.exclude(ip_address__isnull=True).values_list("pk", "ip_address")
    ids = [pk for pk, ip in candidates.iterator() if screening.block_rule_matches(rule, Registration(ip_address=ip))]
    return pending.filter(pk__in=ids)


def block_rule_apply(*, rule: BlockRule, by: User) -> int:
    """Reject every pending registration the rule matches; returns how many were rejected."""
    ids = list(block_rule_preview(rule=rule).values_list("pk", flat=True))
    result = registrations_bulk_decide(
        ids=ids,
        by=by,
        decision="reject",
        reason=f"Blocked by rule: {rule} ({rule.reason})",
        delay_cause=DelayCause.FRAUD_INVESTIGATION,
    )
    audit_record(actor=by, action="blockrule.apply", target=rule, data={"rejected": len(result.decided)})
    return len(result.decided)


# --- Account status: suspension, ban, reinstatement, deactivation ------------------------------------------
#
# One field, User.status, says where an account stands; `is_active` follows it, so Django's session
# authentication and DRF's token authentication refuse every account that is not ACTIVE. Each transition locks
# the user row, returns early when the account is already there, and records an audit entry and an account event.


# A transition that lost a compare-and-set race decides again on the state the winner left.
RACE_RETRIES = 3


class _Conflict(DomainError):
    def __init__(self) -> None:
        super().__init__("The account changed meanwhile: reload it and try again.", code="conflict")


# --- Who may change whose account status ------------------------------------------------------------------


class StatusChangeRefused(DomainError):
    """The acting user may not change this account's status (or release its lockouts)."""

    code = "permission_denied"
    status_code = 403


# What each action is called in a refusal.
STATUS_ACTIONS = {
    "suspend": "suspend",
    "ban": "ban",
    "reinstate": "reinstate",
    "unlock": "unlock",
    "deactivate": "deactivate",
    "reactivate": "reactivate",
    "status": "change the status of",
}
# What an account may do to itself: step away and come back. Locking oneself out, or lifting one's own
# suspension or lockout, is always someone else's call.
SELF_ACTIONS = ("deactivate", "reactivate")


def is_administrator(user: User) -> bool:
    return user.is_superuser or user.groups.filter(name=roles.ADMINISTRATOR).exists()


def is_staff_account(user: User) -> bool:
    return user.is_staff or user.is_superuser or user.groups.filter(name__in=roles.ROLES).exists()


def account_status_refusal(*, user: User, by: User | None, action: str) -> str:
    """Why `by` may not suspend, ban, reinstate, unlock, deactivate or reactivate `user` ("" when they may).

    Holding the permission for the action is the caller's check; this is the rule on top of it, kept here so that
    the API, the pages, the admin, bulk actions and moderation decisions cannot drift apart: a staff account is
    only acted on by an administrator, and an administrator's account (superuser or the Administrator role) only by
    another superuser. Without it a moderator could sign an administrator out everywhere and lock them out.
    `by=None` is the system itself (a suspension that ran out)."""
    verb = STATUS_ACTIONS[action]
    if by is None:
        return ""
    if by.pk == user.pk:
        return "" if action in SELF_ACTIONS else f"You cannot {verb} your own account: ask another administrator."
    if is_administrator(user):
        if not by.is_superuser:
            return f"Only a superuser can {verb} an administrator's account."
    elif is_staff_account(user) and not is_administrator(by):
        return f"Only an administrator can {verb} a staff account."
    return ""


def account_status_guard(*, user: User, by: User | None, action: str) -> None:
    """Raise StatusChangeRefused when `by` may not take `action` on `user` (see account_status_refusal)."""
    refusal = account_status_refusal(user=user, by=by, action=action)
    if refusal:
        raise StatusChangeRefused(refusal)


def _lock_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Give the reason; it is kept in the audit trail.", fields={"reason": ["A reason is required."]}
        )
    return reason[:300]


def _set_account_status(user: User, status: str, *, reason: str, until: datetime | None = None) -> bool:
    """Compare-and-set on the status as well as the row lock (SQLite has no SELECT … FOR UPDATE): False when
    another transaction changed the status first."""
    now = timezone.now()
    values = {
        "status": status,
        "is_active": status == AccountStatus.ACTIVE,
        "status_reason": reason,
        "status_changed_at": now,
        "suspended_until": until if status == AccountStatus.SUSPENDED else None,
    }
    if User.objects.filter(pk=user.pk, status=user.status).update(**values) != 1:
        return False
    for name, value in values.items():
        setattr(user, name, value)
    return True


def sessions_end(*, user: User, keep_session: str = "") -> int:
    """Sign the user out everywhere: web sessions deleted, API tokens revoked. Returns the sessions ended.

    `keep_session`: the web session key of the request that asked (a password change keeps its own tab signed
    in). API tokens are always revoked; a caller that keeps its API device reissues a token afterwards."""
    from django.contrib.sessions.backends.base import SessionBase
    from rest_framework.authtoken.models import Token

    now = timezone.now()
    open_sessions = AccountSession.objects.filter(user=user, ended_at__isnull=True)
    if keep_session:
        open_sessions = open_sessions.exclude(
            channel__in=[AccountSession.Channel.WEB, AccountSession.Channel.ADMIN], key=keep_session
        )
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    for key in open_sessions.filter(channel__in=[AccountSession.Channel.WEB, AccountSession.Channel.ADMIN]).values_list(
        "key", flat=True
    ):
        store(session_key=key).delete()
    ended = open_sessions.update(ended_at=now)
    Token.objects.filter(user=user).delete()
    return ended


def local_text(moment: datetime) -> str:
    """A time as e-mails show it: local (TIME_ZONE), to the minute."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _notify(user: User, notice: str, **context: Any) -> None:
    notice_send(user=user, notice=notice, context=context)


def _status_change(
    user: User, *, by: User | None, status: str, kind: str, reason: str, until: datetime | None = None
) -> bool:
    previous = user.status
    if not _set_account_status(user, status, reason=reason, until=until):
        return False
    data = {"from": previous, "until": until.isoformat() if until else None}
    audit_record(actor=by, action=f"account.{kind}", target=user, reason=reason, data=data)
    event_record(user=user, kind=kind, actor=by, reason=previous, data=data)
    return True


def user_suspend(*, user: User, by: User | None, reason: str, until: datetime | None = None) -> User:
    """Suspend an account (until `until`, or until reinstated): signed out everywhere and told by e-mail."""
    reason = _require_reason(reason)
    if until is not None and until <= timezone.now():
        raise InvalidInput("The suspension must end in the future.", fields={"until": ["Choose a future time."]})
    if by is not None and by.pk == user.pk:
        raise DomainError("You cannot suspend your own account.", code="self_action")
    account_status_guard(user=user, by=by, action="suspend")
    for _attempt in range(RACE_RETRIES):
        with transaction.atomic():
            user = _lock_user(user)
            if user.status in (AccountStatus.BANNED, AccountStatus.DELETED):
                raise DomainError(f"This account is {user.get_status_display().lower()}.", code="account_closed")
            if user.status == AccountStatus.SUSPENDED and user.suspended_until == until:
                return user
            if not _status_change(
                user, by=by, status=AccountStatus.SUSPENDED, kind=Kind.SUSPENDED, reason=reason, until=until
            ):
                continue
            sessions_end(user=user)
            _notify(user, "suspended", reason=reason, until=local_text(until) if until else "")
            return user
    raise _Conflict()


def user_ban(*, user: User, by: User | None, reason: str) -> User:
    """Ban an account for good: signed out, told by e-mail, and its e-mail and phone kept as fingerprints so a
    new sign-up with either is flagged as a re-registration."""
    reason = _require_reason(reason)
    if by is not None and by.pk == user.pk:
        raise DomainError("You cannot ban your own account.", code="self_action")
    account_status_guard(user=user, by=by, action="ban")
    for _attempt in range(RACE_RETRIES):
        with transaction.atomic():
            user = _lock_user(user)
            if user.status == AccountStatus.DELETED:
                raise DomainError("This account is deleted.", code="account_closed")
            if user.status == AccountStatus.BANNED:
                return user
            if not _status_change(user, by=by, status=AccountStatus.BANNED, kind=Kind.BANNED, reason=reason):
                continue
            _keep_identity_fingerprints(user, reason="banned")
            sessions_end(user=user)
            _notify(user, "banned", reason=reason)
            return user
    raise _Conflict()


def _identity_values(user: User) -> list[tuple[str, str]]:
    registration = Registration.objects.filter(user=user).first()
    email = registration.canonical_email if registration else canonical_email(user.email)
    phone = (registration.phone_e164 if registration else "") or user.phone
    return [("email", email), *([("phone", phone)] if phone else [])]


def _keep_identity_fingerprints(user: User, *, reason: str) -> None:
    IdentityFingerprint.objects.bulk_create(
        [
            IdentityFingerprint(kind=kind, digest=fingerprint(kind, value), reason=reason)
            for kind, value in _identity_values(user)
        ],
        ignore_conflicts=True,
    )


def user_reinstate(*, user: User, by: User | None, reason: str) -> User:
    """End a suspension or a ban (`by=None`: a suspension that ran out). The user is told by e-mail."""
    reason = _require_reason(reason)
    account_status_guard(user=user, by=by, action="reinstate")
    for _attempt in range(RACE_RETRIES):
        with transaction.atomic():
            user = _lock_user(user)
            if user.status == AccountStatus.ACTIVE:
                return user
            if user.status not in (AccountStatus.SUSPENDED, AccountStatus.BANNED):
                raise DomainError(
                    f"A {user.get_status_display().lower()} account cannot be reinstated.", code="not_reinstatable"
                )
            was_banned = user.status == AccountStatus.BANNED
            if not _status_change(user, by=by, status=AccountStatus.ACTIVE, kind=Kind.REINSTATED, reason=reason):
                continue
            if was_banned:
                digests = [fingerprint(kind, value) for kind, value in _identity_values(user)]
                IdentityFingerprint.objects.filter(digest__in=digests, reason="banned").delete()
            _notify(user, "reinstated", reason=reason)
            return user
    raise _Conflict()


def suspensions_expire(*, now: datetime | None = None) -> int:
    """Reinstate every suspension whose end has passed; returns how many. Safe to run twice."""
    now = now or timezone.now()
    due = User.objects.filter(status=AccountStatus.SUSPENDED, suspended_until__lte=now).order_by("suspended_until")
    count = 0
    for user in due.iterator(chunk_size=200):
        reinstated = user_reinstate(user=user, by=None, reason="The suspension ended.")
        count += reinstated.status == AccountStatus.ACTIVE
    return count


def account_deactivate(*, user: User, by: User | None = None, client: Client = SYSTEM, reason: str = "") -> User:
    """Deactivate an account (`by`: the user themselves, the default): signed out; signing in again reactivates
    it."""
    account_status_guard(user=user, by=user if by is None else by, action="deactivate")
    with transaction.atomic():
        user = _lock_user(user)
        if user.status == AccountStatus.DEACTIVATED:
            return user
        if user.status != AccountStatus.ACTIVE:
            raise DomainError(f"This account is {user.get_status_display().lower()}.", code="not_active")
        reason = (reason or "").strip()[:300]
        if not _set_account_status(user, AccountStatus.DEACTIVATED, reason=reason):
            raise _Conflict()
        audit_record(actor=by or user, action="account.deactivate", target=user, reason=reason)
        event_record(user=user, kind=Kind.DEACTIVATED, actor=by or user, client=client)
        sessions_end(user=user)
        _notify(user, "deactivated")
    return user


def account_reactivate(*, user: User, by: User | None = None, client: Client = SYSTEM) -> User:
    """A deactivated account comes back: by signing in again (`by` the user) or through an administrator."""
    account_status_guard(user=user, by=by, action="reactivate")
    with transaction.atomic():
        user = _lock_user(user)
        if user.status == AccountStatus.ACTIVE:
            return user
        if user.status != AccountStatus.DEACTIVATED:
            raise DomainError(f"This account is {user.get_status_display().lower()}.", code="not_deactivated")
        if not _set_account_status(user, AccountStatus.ACTIVE, reason=""):
            raise _Conflict()
        audit_record(actor=by, action="account.reactivate", target=user)
        event_record(user=user, kind=Kind.REACTIVATED, actor=by, client=client)
    return user
