"""What users do with their own account: profile, e-mail and password changes, password reset (account recovery),
notification preferences and privacy choices, data export, deletion requests, and feedback.

Each change is an AccountEvent with who, what and when. Events name the fields that changed and carry only
non-sensitive values (booleans, country, language); a phone number or address is recorded masked, a password
never.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from saypro import periods, ratelimit
from saypro.audit.services import audit_record
from saypro.errors import DomainError, InvalidInput

from . import activity, security
from .events import SYSTEM, Client, event_record, notice_send
from .identity import normalise_phone
from .models import (
    AccountEvent,
    AccountPreferences,
    AccountSession,
    AccountStatus,
    ActivityDay,
    AgeBand,
    DeletionRequest,
    EmailChange,
    FeatureRelease,
    FeatureUse,
    Feedback,
    NpsPrompt,
    PasswordReset,
    PrivacyChange,
    Registration,
    User,
)
from .services import sessions_end

Kind = AccountEvent.Kind
EMAIL_CHANGE_SALT = "accounts.self_service.email_change"
EMAIL_CHANGE_MAX_AGE_HOURS = 48
PROFILE_FIELDS = {"full_name": 150, "phone": 32, "country": 2, "region": 100, "language": 10, "age_band": 5}
# Recorded as "changed" only, never with a value.
SENSITIVE_FIELDS = {"full_name", "phone", "region"}
PREFERENCE_FIELDS = ("email_notifications", "sms_notifications", "product_updates")


def mask_email(email: str) -> str:
    """t***@example.com: enough for a user to recognise the address, not enough to harvest it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


# --- Profile -------------------------------------------------------------------------------------------------


def profile_update(*, user: User, by: User | None = None, client: Client = SYSTEM, **fields: str) -> User:
    """Change profile fields; the event names the fields changed (values only for country, language, age band)."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", fields={name: ["This field cannot be changed here."] for name in unknown})
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, raw in fields.items():
        value = (raw or "").strip()
        if len(value) > PROFILE_FIELDS[name]:
            errors[name] = [f"Use at most {PROFILE_FIELDS[name]} characters."]
        values[name] = value
    if values.get("country") and not (len(values["country"]) == 2 and values["country"].isalpha()):
        errors["country"] = ["Use the two-letter country code, e.g. ZA."]
    if values.get("age_band") and values["age_band"] not in AgeBand.values:
        errors["age_band"] = ["Choose one of the listed age bands."]
    if "phone" in values and "phone" not in errors and values["phone"]:
        try:
            values["phone"] = normalise_phone(values["phone"], values.get("country") or user.country)
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if errors:
        raise InvalidInput("The profile has invalid fields.", fields=errors)
    if "country" in values:
        values["country"] = values["country"].upper()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        changed = {name: value for name, value in values.items() if getattr(user, name) != value}
        if not changed:
            return user
        before = {name: getattr(user, name) for name in changed}
        for name, value in changed.items():
            setattr(user, name, value)
        user.save(update_fields=list(changed))
        if "phone" in changed:
            user.phone_verified_at = None
            user.save(update_fields=["phone_verified_at"])
        data = {
            name: ("changed" if name in SENSITIVE_FIELDS else {"from": before[name], "to": value})
            for name, value in changed.items()
        }
        event_record(user=user, kind=Kind.PROFILE_UPDATED, actor=by or user, client=client, data={"fields": data})
        if by is None or by == user:
            nps_prompt_offer(user=user, after=Kind.PROFILE_UPDATED)
    activity.activity_record(user_id=user.pk, feature=activity.PROFILE_UPDATE)
    return user


# --- Password: change and reset -----------------------------------------------------------------------------


def _check_new_password(user: User, password: str) -> None:
    try:
        validate_password(password or "", user)
    except ValidationError as exc:
        raise InvalidInput("Choose a stronger password.", fields={"new_password": list(exc.messages)}) from None


@dataclass(frozen=True)
class PasswordChange:
    user: User
    # The API token that replaces the one the change was made with ("" for a change made in a web session).
    token: str


def password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    client: Client = SYSTEM,
    keep_session: str = "",
    keep_token: str = "",
) -> PasswordChange:
    """Change the password (the current one is required). Every other session is signed out and every API token
    revoked: whoever learned the old password keeps no way in. The request that made the change stays signed in:
    its web session (`keep_session`), or its device under a new token replacing `keep_token`."""
    if not user.check_password(current_password or ""):
        raise InvalidInput("The current password is not correct.", fields={"current_password": ["Not correct."]})
    _check_new_password(user, new_password)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        sessions_end(user=user, keep_session=keep_session)
        token = security.api_token_reissue(user=user, old_key=keep_token) if keep_token else ""
        event_record(user=user, kind=Kind.PASSWORD_CHANGED, actor=user, client=client)
        audit_record(actor=user, action="account.password_change", target=user)
        nps_prompt_offer(user=user, after=Kind.PASSWORD_CHANGED)
        notice_send(user=user, notice="password_changed", context={"at": _now_text(), "reset": False})
    activity.activity_record(user_id=user.pk, feature=activity.PASSWORD_CHANGE)
    return PasswordChange(user=user, token=token)


def _now_text() -> str:
    return formats.date_format(timezone.localtime(), "DATETIME_FORMAT")


def password_reset_request(*, email: str, client: Client = SYSTEM) -> PasswordReset | None:
    """Send a reset link if an account uses the address; say nothing either way (None for no account)."""
    email = (email or "").strip()
    ratelimit.check(
        f"password-reset:{email.lower()}",
        limit=3,
        window=3600,
        message="Too many reset requests for this address: wait an hour, or check your spam folder.",
    )
    user = User.objects.filter(
        email__iexact=email, status__in=[AccountStatus.ACTIVE, AccountStatus.DEACTIVATED]
    ).first()
    if user is None:
        return None
    with transaction.atomic():
        reset = PasswordReset.objects.create(user=user, channel=client.channel, ip_address=client.ip)
        event_record(user=user, kind=Kind.PASSWORD_RESET_REQUESTED, client=client, data={"reset": reset.pk})
        security.check_reset_after_new_device(user=user, client=client)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        notice_send(
            user=user,
            notice="password_reset",
            context={
                "reset_url": f"{settings.SITE_URL}/accounts/password-reset/{uid}/{token}/",
                "uid": uid,
                "token": token,
                "max_age_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )
    return reset


def password_reset_user(*, uidb64: str, token: str) -> User | None:
    """The user a reset link was made for while it is valid: signed (HMAC), expiring (PASSWORD_RESET_TIMEOUT),
    and single-use (the token covers the password hash, so it stops working once the password changes)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def password_reset_complete(*, uidb64: str, token: str, new_password: str, client: Client = SYSTEM) -> User:
    user = password_reset_user(uidb64=uidb64, token=token)
    if user is None:
        raise InvalidInput(
            "This reset link is invalid, expired or already used: ask for a new one.",
            fields={"token": ["Invalid, expired or already used."]},
            code="invalid_token",
        )
    _check_new_password(user, new_password)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        # Checked again under the lock: two tabs posting the same link change the password once.
        if not default_token_generator.check_token(user, token):
            raise InvalidInput(
                "This reset link was just used.", fields={"token": ["Already used."]}, code="invalid_token"
            )
        user.set_password(new_password)
        user.save(update_fields=["password"])
        since = now - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        reset = PasswordReset.objects.filter(user=user, completed_at__isnull=True, requested_at__gte=since).first()
        # Every open request of this user is answered by this reset; time to recovery counts from the first.
        PasswordReset.objects.filter(user=user, completed_at__isnull=True, requested_at__gte=since).update(
            completed_at=now
        )
        event_record(
            user=user,
            kind=Kind.PASSWORD_RESET_COMPLETED,
            client=client,
            data={"reset": reset.pk if reset else None},
            at=now,
        )
        # A lockout exists to stop guessing; whoever proved they own the mailbox may sign in again.
        for lockout in user.lockouts.filter(released_at__isnull=True, until__gt=now):
            lockout.released_at = now
            lockout.save(update_fields=["released_at"])
            # The release restarts the failure count, as an administrator's does.
            event_record(
                user=user,
                kind=Kind.UNLOCK,
                reason="password_reset",
                client=client,
                identifier=lockout.identifier,
                data={"lockout": lockout.pk},
                at=now,
            )
        sessions_end(user=user)
        audit_record(actor=user, action="account.password_reset", target=user)
        notice_send(user=user, notice="password_changed", context={"at": _now_text(), "reset": True})
    activity.activity_record(user_id=user.pk, feature=activity.PASSWORD_CHANGE, at=now)
    return user


# --- E-mail change (re-verification) ------------------------------------------------------------------------


def email_change_request(*, user: User, new_email: str, password: str, client: Client = SYSTEM) -> EmailChange:
    """Ask to use a new address: nothing changes until the link sent to the new address is followed."""
    new_email = (new_email or "").strip().lower()
    try:
        validate_email(new_email)
    except ValidationError:
        raise InvalidInput("Enter a valid e-mail address.", fields={"new_email": ["Enter a valid address."]}) from None
    if not user.check_password(password or ""):
        raise InvalidInput("The password is not correct.", fields={"password": ["Not correct."]})
    if User.objects.filter(email__iexact=new_email).exists():
        raise InvalidInput("That address belongs to another account.", fields={"new_email": ["Already in use."]})
    with transaction.atomic():
        EmailChange.objects.filter(user=user, confirmed_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )
        change = EmailChange.objects.create(user=user, new_email=new_email)
        event_record(
            user=user,
            kind=Kind.EMAIL_CHANGE_REQUESTED,
            actor=user,
            client=client,
            data={"new_email": mask_email(new_email)},
        )
        token = signing.dumps({"change": change.pk, "email": new_email}, salt=EMAIL_CHANGE_SALT)
        from . import tasks

        transaction.on_commit(
            lambda: tasks.send_account_notice.delay(
                user.pk,
                "email_change_confirm",
                new_email,
                {
                    "confirm_url": f"{settings.SITE_URL}/accounts/email-change/{token}/",
                    "token": token,
                    "max_age_hours": EMAIL_CHANGE_MAX_AGE_HOURS,
                },
                f"email-change-confirm:{change.pk}",
            )
        )
    return change


def email_change_confirm(*, token: str, client: Client = SYSTEM) -> User:
    invalid = InvalidInput(
        "This confirmation link is invalid, expired or already used.",
        fields={"token": ["Invalid, expired or already used."]},
        code="invalid_token",
    )
    try:
        payload = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_MAX_AGE_HOURS * 3600)
    except signing.BadSignature:
        raise invalid from None
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(pk=payload.get("change"), new_email=payload.get("email"), confirmed_at__isnull=True)
            .filter(cancelled_at__isnull=True)
            .first()
        )
        if change is None:
            raise invalid
        user = User.objects.select_for_update().get(pk=change.user_id)
        old_email = user.email
        now = timezone.now()
        user.email = change.new_email
        user.email_verified_at = now
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "email_verified_at"])
        except IntegrityError:
            raise InvalidInput("That address now belongs to another account.", fields={"token": ["In use."]}) from None
        change.confirmed_at = now
        change.save(update_fields=["confirmed_at"])
        event_record(
            user=user,
            kind=Kind.EMAIL_CHANGED,
            actor=user,
            client=client,
            data={"from": mask_email(old_email), "to": mask_email(user.email)},
            at=now,
        )
        audit_record(actor=user, action="account.email_change", target=user)
        from . import tasks

        # The old address is told, so that a takeover cannot quietly move the account.
        context = {"new_email_masked": mask_email(user.email)}
        transaction.on_commit(
            lambda: tasks.send_account_notice.delay(
                user.pk, "email_changed", old_email, context, f"email-changed:{user.pk}:{now.isoformat()}"
            )
        )
    activity.activity_record(user_id=user.pk, feature=activity.PROFILE_UPDATE, at=now)
    return user


# --- Preferences and privacy choices ------------------------------------------------------------------------


def preferences_get(user: User) -> AccountPreferences:
    preferences, _ = AccountPreferences.objects.get_or_create(user=user)
    return preferences


def preferences_update(
    *,
    user: User,
    client: Client = SYSTEM,
    email_notifications: bool | None = None,
    sms_notifications: bool | None = None,
    product_updates: bool | None = None,
    marketing_opt_in: bool | None = None,
    data_processing_consent: bool | None = None,
) -> AccountPreferences:
    """Change notification preferences and privacy choices; each privacy change is its own event, and consent
    is stored with the policy version and the time it was given."""
    wanted = {
        "email_notifications": email_notifications,
        "sms_notifications": sms_notifications,
        "product_updates": product_updates,
    }
    with transaction.atomic():
        AccountPreferences.objects.get_or_create(user=user)
        preferences = AccountPreferences.objects.select_for_update().get(user=user)
        now = timezone.now()
        changed = {
            name: {"from": getattr(preferences, name), "to": value}
            for name, value in wanted.items()
            if value is not None and getattr(preferences, name) != value
        }
        fields = list(changed)
        for name, change in changed.items():
            setattr(preferences, name, change["to"])
        privacy: list[tuple[str, dict[str, Any]]] = []
        if marketing_opt_in is not None and marketing_opt_in != preferences.marketing_opt_in:
            preferences.marketing_opt_in = marketing_opt_in
            preferences.marketing_changed_at = now
            fields += ["marketing_opt_in", "marketing_changed_at"]
            privacy.append(
                (PrivacyChange.MARKETING_OPT_IN if marketing_opt_in else PrivacyChange.MARKETING_OPT_OUT, {})
            )
        version = settings.PRIVACY_POLICY_VERSION
        if data_processing_consent is not None and (
            data_processing_consent != preferences.data_processing_consent
            or (data_processing_consent and preferences.consent_policy_version != version)
        ):
            preferences.data_processing_consent = data_processing_consent
            preferences.consent_policy_version = (
                version if data_processing_consent else preferences.consent_policy_version
            )
            preferences.consent_at = now
            fields += ["data_processing_consent", "consent_policy_version", "consent_at"]
            reason = PrivacyChange.CONSENT_GIVEN if data_processing_consent else PrivacyChange.CONSENT_WITHDRAWN
            privacy.append((reason, {"policy_version": version}))
        if fields:
            preferences.save(update_fields=fields)
        if changed:
            event_record(user=user, kind=Kind.PREFERENCES_CHANGED, actor=user, client=client, data=changed, at=now)
        for reason, data in privacy:
            event_record(
                user=user, kind=Kind.PRIVACY_CHANGED, reason=reason, actor=user, client=client, data=data, at=now
            )
        if changed or privacy:
            nps_prompt_offer(user=user, after=Kind.PREFERENCES_CHANGED)
    return preferences


# --- Data export --------------------------------------------------------------------------------------------

ExportSection = Callable[[User], Any]
EXPORT_SECTIONS: dict[str, ExportSection] = {}


def export_register(name: str, section: ExportSection) -> None:
    """Other apps add what they hold about a user (messages, tickets, listings) to the data export."""
    EXPORT_SECTIONS[name] = section


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def user_data_export(*, user: User, client: Client = SYSTEM) -> dict[str, Any]:
    """Everything the product keeps about the user, as JSON-ready data (the right of access)."""
    preferences = preferences_get(user)
    registration = Registration.objects.filter(user=user).first()
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "country": user.country,
            "region": user.region,
            "language": user.language,
            "age_band": user.age_band,
            "date_joined": _iso(user.date_joined),
            "email_verified_at": _iso(user.email_verified_at),
            "phone_verified_at": _iso(user.phone_verified_at),
            "status": user.status,
        },
        "registration": None
        if registration is None
        else {
            "status": registration.status,
            "started_at": _iso(registration.started_at),
            "submitted_at": _iso(registration.submitted_at),
            "decided_at": _iso(registration.decided_at),
            "decision_reason": registration.decision_reason,
            "ip_address": registration.ip_address,
            "device_type": registration.device_type,
        },
        "preferences": {
            **{name: getattr(preferences, name) for name in PREFERENCE_FIELDS},
            "marketing_opt_in": preferences.marketing_opt_in,
            "data_processing_consent": preferences.data_processing_consent,
            "consent_policy_version": preferences.consent_policy_version,
            "consent_at": _iso(preferences.consent_at),
        },
        "events": [
            {"kind": e.kind, "reason": e.reason, "at": _iso(e.at), "ip_address": e.ip_address, "channel": e.channel}
            for e in AccountEvent.objects.filter(user=user).order_by("at").iterator(chunk_size=500)
        ],
        "sessions": [
            {
                "channel": s.channel,
                "started_at": _iso(s.started_at),
                "last_seen_at": _iso(s.last_seen_at),
                "device_type": s.device_type,
                "platform": s.platform,
                "browser": s.browser,
                "ip_address": s.ip_address,
            }
            for s in AccountSession.objects.filter(user=user).order_by("started_at").iterator(chunk_size=500)
        ],
        "activity": list(
            ActivityDay.objects.filter(user=user)
            .order_by("day")
            .values(
                "day",
                "sign_ins",
                "profile_updates",
                "password_changes",
                "messages_sent",
                "listings_posted",
                "transactions",
            )
        ),
        "feedback": [
            {"topic": f.topic, "score": f.score, "comment": f.comment, "at": _iso(f.created_at)}
            for f in Feedback.objects.filter(user=user).order_by("created_at")
        ],
    }
    for row in data["activity"]:
        row["day"] = row["day"].isoformat()
    for name, section in EXPORT_SECTIONS.items():
        data[name] = section(user)
    event_record(user=user, kind=Kind.DATA_EXPORTED, actor=user, client=client)
    return data


# --- Deletion -------------------------------------------------------------------------------------------------


def deletion_request(*, user: User, reason: str = "", client: Client = SYSTEM) -> DeletionRequest:
    """The user asks for the account to be deleted; an administrator completes it."""
    with transaction.atomic():
        existing = DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING).first()
        if existing is not None:
            return existing
        request = DeletionRequest.objects.create(user=user, reason=(reason or "").strip()[:500])
        event_record(user=user, kind=Kind.DELETION_REQUESTED, actor=user, client=client, data={"request": request.pk})
        audit_record(actor=user, action="account.deletion_request", target=request)
    return request


def deletion_cancel(*, request: DeletionRequest, by: User) -> DeletionRequest:
    with transaction.atomic():
        request = DeletionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != DeletionRequest.Status.PENDING:
            raise DomainError(f"This request is already {request.get_status_display().lower()}.", code="decided")
        request.status = DeletionRequest.Status.CANCELLED
        request.decided_at, request.decided_by = timezone.now(), by
        request.save(update_fields=["status", "decided_at", "decided_by"])
        audit_record(actor=by, action="account.deletion_cancel", target=request)
    return request


def account_delete(*, request: DeletionRequest, by: User) -> User:
    """Complete a deletion request: personal data is anonymised; what reports count (registration steps and
    times, country and age band, daily activity, sessions' times and device types, events' kinds and times,
    feedback scores) stays, tied to an account nobody can sign in to or recognise."""
    with transaction.atomic():
        request = DeletionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != DeletionRequest.Status.PENDING:
            raise DomainError(f"This request is already {request.get_status_display().lower()}.", code="decided")
        user = User.objects.select_for_update().get(pk=request.user_id)
        email = user.email
        sessions_end(user=user)
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.full_name = user.phone = user.region = ""
        user.set_unusable_password()
        user.status, user.is_active = AccountStatus.DELETED, False
        user.status_changed_at, user.status_reason, user.suspended_until = timezone.now(), "Deleted on request", None
        user.save(
            update_fields=[
                "email", "full_name", "phone", "region", "password", "status", "is_active", "status_changed_at",
                "status_reason", "suspended_until",
            ]
        )  # fmt: skip
        registration = Registration.objects.filter(user=user).first()
        if registration is not None:
            if registration.id_document:
                registration.id_document.delete(save=False)
            Registration.objects.filter(pk=registration.pk).update(
                canonical_email=user.email,
                phone_e164="",
                ip_address=None,
                subnet="",
                user_agent="",
                id_document="",
                info_response="",
            )
            registration.phone_codes.all().delete()
        AccountEvent.objects.filter(user=user).update(ip_address=None, user_agent="", identifier="", data={})
        AccountSession.objects.filter(user=user).update(ip_address=None, subnet="", user_agent="", key="")
        EmailChange.objects.filter(user=user).delete()
        Feedback.objects.filter(user=user).update(comment="")
        AccountPreferences.objects.filter(user=user).delete()
        now = timezone.now()
        request.status, request.decided_at, request.decided_by, request.reason = (
            DeletionRequest.Status.COMPLETED, now, by, "",
        )  # fmt: skip
        request.save(update_fields=["status", "decided_at", "decided_by", "reason"])
        event_record(user=user, kind=Kind.DELETED, actor=by, data={"request": request.pk}, at=now)
        audit_record(actor=by, action="account.delete", target=request)
        from . import tasks

        transaction.on_commit(
            lambda: tasks.send_account_notice.delay(user.pk, "deleted", email, {}, f"account-deleted:{user.pk}")
        )
    return user


# --- Newly released features ----------------------------------------------------------------------------------


def feature_use_record(*, user: User, key: str) -> FeatureUse:
    """Count one use of a released feature by the user today (document 001's feature usage)."""
    today = periods.today()
    feature = FeatureRelease.objects.filter(key=key, released_on__lte=today).first()
    if feature is None:
        raise InvalidInput("Unknown feature.", fields={"feature": ["Send the key of a released feature."]})
    # get_or_create settles two first uses racing at the unique row; the one that found the row counts on it.
    use, created = FeatureUse.objects.get_or_create(feature=feature, user=user, day=today)
    if not created:
        FeatureUse.objects.filter(pk=use.pk).update(uses=F("uses") + 1)
        use.refresh_from_db(fields=["uses"])
    return use


# --- Feedback ------------------------------------------------------------------------------------------------


# A user is asked at most once a quarter, and an unanswered question is offered for two weeks.
NPS_PROMPT_EVERY = timedelta(days=90)
NPS_PROMPT_OPEN = timedelta(days=14)


def nps_prompt_offer(*, user: User, after: str) -> NpsPrompt | None:
    """Ask "would you recommend SayPro?" after an account-management interaction, unless the user was asked
    within NPS_PROMPT_EVERY. Runs inside the interaction's transaction; the user's row lock keeps two concurrent
    interactions to one question."""
    if user.is_staff:
        return None
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        now = timezone.now()
        if NpsPrompt.objects.filter(user=user, asked_at__gt=now - NPS_PROMPT_EVERY).exists():
            return None
        return NpsPrompt.objects.create(user=user, after=after, asked_at=now)


def nps_prompts_open(user: User) -> list[NpsPrompt]:
    since = timezone.now() - NPS_PROMPT_OPEN
    return list(NpsPrompt.objects.filter(user=user, answered_at__isnull=True, asked_at__gt=since).order_by("-asked_at"))


def feedback_submit(*, user: User | None, topic: str, score: int, comment: str = "") -> Feedback:
    """A 1–5 rating of the registration or account experience, or a 0–10 answer to "would you recommend us?"."""
    if topic not in Feedback.Topic.values:
        raise InvalidInput("Unknown topic.", fields={"topic": ["Choose registration, account or nps."]})
    low, high = (0, 10) if topic == Feedback.Topic.NPS else (1, 5)
    if not isinstance(score, int) or isinstance(score, bool) or not low <= score <= high:
        raise InvalidInput(
            "The score is out of range.", fields={"score": [f"Give a whole number from {low} to {high}."]}
        )
    if len(comment or "") > 2000:
        raise InvalidInput("The comment is too long.", fields={"comment": ["Use at most 2,000 characters."]})
    with transaction.atomic():
        feedback = Feedback.objects.create(user=user, topic=topic, score=score, comment=(comment or "").strip())
        if topic == Feedback.Topic.NPS and user is not None:
            # The answer closes the question it answers, so the report can tell prompted answers from the others.
            since = feedback.created_at - NPS_PROMPT_OPEN
            prompt = (
                NpsPrompt.objects.select_for_update()
                .filter(user=user, answered_at__isnull=True, asked_at__gt=since)
                .order_by("-asked_at")
                .first()
            )
            if prompt is not None:
                prompt.answered_at, prompt.feedback = feedback.created_at, feedback
                prompt.save(update_fields=["answered_at", "feedback"])
    return feedback
