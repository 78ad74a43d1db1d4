"""Sign-up: starting, updating and submitting a registration."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import screening
from accounts.events import notice_send
from accounts.identity import canonical_email, device_type, normalise_phone, subnet_of
from accounts.models import (
    AccountPreferences,
    AgeBand,
    Registration,
    SignUpStart,
    User,
)
from accounts.services.account_status import local_text
from accounts.services.base import EMAIL_TAKEN, METRIC, Status, _lock
from accounts.services.review import _clean_id_document
from accounts.services.verification import email_verification_send
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import InvalidInput
from saypro.sla import services as sla

# --- Sign-up ------------------------------------------------------------------------------------------


START_TOKEN = re.compile(r"[0-9a-f]{32}")


def signup_start_token() -> str:
    return secrets.token_hex(16)


def _printable(value: str, limit: int) -> str:
    # A campaign code comes from a link's query string: printable characters only (no NUL, which PostgreSQL
    # refuses), and no longer than its column.
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def signup_start_record(*, token: str, channel: str, campaign: str = "") -> SignUpStart:
    """Count a visitor who began the sign-up form, once per form (the page reports its first keystroke; a client
    may ask twice)."""
    if not START_TOKEN.fullmatch(token or ""):
        raise InvalidInput("Not a sign-up start.", fields={"start": ["Send the start key you were given."]})
    start, _ = SignUpStart.objects.get_or_create(
        token=token, defaults={"channel": channel, "campaign": _printable(campaign, 50)}
    )
    return start


def _start_complete(*, registration: Registration, token: str, channel: str) -> None:
    """Link the registration to the start it completed; a form posted without one (no script on the page, a client
    that skipped the step) started and completed at once."""
    token = token if START_TOKEN.fullmatch(token or "") else signup_start_token()
    start, _ = SignUpStart.objects.get_or_create(
        token=token,
        defaults={"channel": channel, "campaign": registration.campaign, "started_at": registration.started_at},
    )
    # A start completes one registration: a replayed key opens a start of its own instead of taking another's.
    if start.registration_id is not None:
        start = SignUpStart.objects.create(
            token=signup_start_token(),
            channel=channel,
            campaign=registration.campaign,
            started_at=registration.started_at,
        )
    start.registration = registration
    start.save(update_fields=["registration"])


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
    start: str = "",
    channel: str = SignUpStart.Channel.API,
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
                campaign=_printable(campaign, 50),
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
            _start_complete(registration=registration, token=start, channel=channel)
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
