"""Sign-in security: every attempt recorded, lockout after repeated failures, sessions and devices, two-factor
sign-in (TOTP with recovery codes), and suspicious-activity detection.

The sign-in page, the API token endpoint and the admin (whose login page redirects to the sign-in page) all go
through `sign_in_check` and `sign_in_complete`; Django's test client `login()` and `force_login()` bypass them,
which keeps other apps' tests independent of lockouts and second factors.

Why the lockout and the failure limits are kept here rather than in django-axes (8.3, evaluated for this): axes
derives a lockout from its attempt rows, with one failure limit for every lockout parameter, so it cannot lock an
address after 5 failures and a network only after 20 (`AXES_FAILURE_LIMIT` sees the request, not which parameter
is being counted), has no per-network parameter at all, and no "only once credential stuffing is seen". Its
lockouts are not rows: the `Lockout` table is what administrators release (audited, on the user's timeline),
what a password reset ends and what the reports count, so axes would be a second, disagreeing record of the same
lockouts. It hooks `authenticate()` and its own middleware, which the two-step sign-in and the token endpoint do
not go through, and it stores the typed user name and form data of every failure, where this module keeps only a
keyed hash of an address that belongs to nobody. The client's address itself comes from django-ipware
(`saypro.clientip`), and the per-address and per-network counts use the shared rate-limit counters.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from saypro import ratelimit
from saypro.audit.services import audit_record
from saypro.errors import DomainError, InvalidInput

from . import activity, roles
from .events import Client, event_record, identifier_of, notice_send
from .models import AccountEvent, AccountSession, AccountStatus, Lockout, User

Kind = AccountEvent.Kind
# Sessions' last activity waits in the cache this long at most for the flush to write it.
SEEN_TTL = 14 * 24 * 3600
RECOVERY_CODES = 10
# Roles whose members decide on people and content: two-factor sign-in is required of them when
# STAFF_2FA_REQUIRED is on.
DECIDING_ROLES = (roles.ADMINISTRATOR, roles.REVIEWER, roles.MODERATOR)


class Reason:
    """Why a sign-in failed, as recorded in AccountEvent.reason and reported as login issues."""

    UNKNOWN_ACCOUNT = "unknown_account"
    WRONG_PASSWORD = "wrong_password"
    LOCKED_OUT = "locked_out"
    SUSPENDED = "suspended"
    BANNED = "banned"
    CLOSED = "closed"
    BAD_SECOND_FACTOR = "bad_second_factor"
    THROTTLED = "throttled"


class Suspicion:
    NEW_DEVICE = "new_device"
    NEW_NETWORK = "new_network"
    FAILURE_BURST = "failure_burst"
    CREDENTIAL_STUFFING = "credential_stuffing"
    RESET_AFTER_NEW_DEVICE = "reset_after_new_device"
    # Sign-in paused for one address, or for its /24 once credential stuffing came from that network.
    ADDRESS_THROTTLED = "address_throttled"
    NETWORK_THROTTLED = "network_throttled"


SUSPICION_TEXT = {
    Suspicion.NEW_DEVICE: "a sign-in from a device you have not used before",
    Suspicion.NEW_NETWORK: "a sign-in from a network you have not used before",
    Suspicion.FAILURE_BURST: "many failed sign-in attempts, so sign-in is paused for a while",
    Suspicion.RESET_AFTER_NEW_DEVICE: "a password reset shortly after a sign-in from a new device",
}

# Failures that count toward a lockout: a wrong password or second factor, or an address nobody has.
COUNTED_FAILURES = (Reason.UNKNOWN_ACCOUNT, Reason.WRONG_PASSWORD, Reason.BAD_SECOND_FACTOR)


class SignInRefused(DomainError):
    status_code = 401


class InvalidCredentials(SignInRefused):
    def __init__(self) -> None:
        super().__init__(
            "The e-mail address or password is not correct. Check both and try again.", code="invalid_credentials"
        )


class LockedOut(SignInRefused):
    status_code = 429

    def __init__(self, until: datetime):
        minutes = max(1, round((until - timezone.now()).total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-ins: sign-in for this account is paused for {minutes} more minute"
            f"{'s' if minutes != 1 else ''}. You can reset your password, or ask an administrator to unlock it.",
            code="locked_out",
        )
        self.until = until


class SignInThrottled(SignInRefused):
    status_code = 429

    def __init__(self, seconds: int):
        minutes = max(1, round(seconds / 60))
        super().__init__(
            f"Too many failed sign-ins from your network: sign-in from it is paused for {minutes} more minute"
            f"{'s' if minutes != 1 else ''}. If you share this connection, wait and try again, or reset your "
            "password.",
            code="sign_in_throttled",
        )


class AccountRestricted(SignInRefused):
    status_code = 403


class SecondFactorRequired(SignInRefused):
    def __init__(self) -> None:
        super().__init__(
            "Enter the 6-digit code from your authenticator app, or a recovery code.",
            fields={"otp": ["A code is required."]},
            code="second_factor_required",
        )


class WrongSecondFactor(SignInRefused):
    def __init__(self) -> None:
        super().__init__(
            "That code is not correct or has expired. Enter the current code, or a recovery code.",
            fields={"otp": ["Wrong or expired code."]},
            code="wrong_second_factor",
        )


# --- Lockout and failure bursts -----------------------------------------------------------------------------


def lockout_active(*, identifier: str, now: datetime | None = None) -> Lockout | None:
    now = now or timezone.now()
    return (
        Lockout.objects.filter(identifier=identifier, until__gt=now, released_at__isnull=True)
        .order_by("-until")
        .first()
    )


def _window_start(identifier: str, now: datetime) -> datetime:
    """Failures count from the window's start, or from the last success or release if later."""
    start = now - timedelta(minutes=settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES)
    last_reset = (
        AccountEvent.objects.filter(identifier=identifier, kind__in=[Kind.SIGN_IN, Kind.UNLOCK], at__gte=start)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return max(start, last_reset) if last_reset else start


def _record_failure(*, user: User | None, identifier: str, reason: str, client: Client) -> None:
    """Record a failed attempt; a burst on one address locks it, many addresses from one IP flag stuffing."""
    now = timezone.now()
    event_record(user=user, kind=Kind.SIGN_IN_FAILED, reason=reason, client=client, identifier=identifier, at=now)
    if reason not in COUNTED_FAILURES:
        return
    failures = AccountEvent.objects.filter(
        identifier=identifier,
        kind=Kind.SIGN_IN_FAILED,
        reason__in=COUNTED_FAILURES,
        at__gte=_window_start(identifier, now),
    ).count()
    if failures >= settings.ACCOUNT_LOCKOUT_FAILURES and lockout_active(identifier=identifier, now=now) is None:
        until = now + timedelta(minutes=settings.ACCOUNT_LOCKOUT_MINUTES)
        lockout = Lockout.objects.create(
            user=user, identifier=identifier, ip_address=client.ip, failures=failures, started_at=now, until=until
        )
        data = {"failures": failures, "until": until.isoformat(), "lockout": lockout.pk}
        event_record(user=user, kind=Kind.LOCKOUT, client=client, identifier=identifier, data=data, at=now)
        if user is not None:
            suspicious_record(user=user, reason=Suspicion.FAILURE_BURST, client=client, data=data)
    if client.ip:
        _count_failure_from(client)
        _check_stuffing(client, now)


# --- Failures per address and per network ---------------------------------------------------------------------
# Password spraying tries a few passwords on many accounts: no single account reaches its lockout, so failures are
# also counted per client address, and per /24 (the /48 of IPv6) where credential stuffing was detected, since a
# botnet spreads its attempts over neighbouring addresses. Counted in the shared cache, per window.


def _throttle_window() -> int:
    return settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES * 60


def _count_failure_from(client: Client) -> None:
    window = _throttle_window()
    ratelimit.hit(f"signin-ip:{client.ip}", limit=settings.ACCOUNT_IP_FAILURES, window=window)
    if client.subnet:
        ratelimit.hit(f"signin-net:{client.subnet}", limit=settings.ACCOUNT_NETWORK_FAILURES, window=window)


def _stuffing_networks(since: datetime) -> set[str]:
    """Networks credential stuffing came from since then (a handful of rows, read through the kind index)."""
    addresses = AccountEvent.objects.filter(
        kind=Kind.SUSPICIOUS, reason=Suspicion.CREDENTIAL_STUFFING, at__gte=since
    ).values_list("ip_address", flat=True)
    return {Client(ip=address).subnet for address in addresses if address}


def _throttle_check(*, user: User | None, identifier: str, client: Client) -> None:
    """Refuse a sign-in, before any password is checked, from an address or network that failed too often."""
    if not client.ip:
        return
    window, now = _throttle_window(), timezone.now()
    since = now - timedelta(seconds=window)
    reason, data, key, limit = "", dict[str, Any](), f"signin-ip:{client.ip}", settings.ACCOUNT_IP_FAILURES
    if ratelimit.count(key, window=window) >= limit:
        reason, data = Suspicion.ADDRESS_THROTTLED, {"failures": limit}
    elif client.subnet:
        key, limit = f"signin-net:{client.subnet}", settings.ACCOUNT_NETWORK_FAILURES
        if ratelimit.count(key, window=window) >= limit and client.subnet in _stuffing_networks(since):
            reason, data = Suspicion.NETWORK_THROTTLED, {"failures": limit}
    if not reason:
        return
    seconds = ratelimit.seconds_left(key, limit=limit, window=window)
    _record_failure(user=user, identifier=identifier, reason=Reason.THROTTLED, client=client)
    # One record per address (or network) and window, however many attempts it keeps making.
    earlier = AccountEvent.objects.filter(kind=Kind.SUSPICIOUS, reason=reason, at__gte=since)
    if reason == Suspicion.ADDRESS_THROTTLED:
        earlier = earlier.filter(ip_address=client.ip)
    else:
        earlier = earlier.filter(data__network=client.subnet)
    if not earlier.exists():
        data.update(
            network=client.subnet,
            window_minutes=settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES,
            until=(now + timedelta(seconds=seconds)).isoformat(),
        )
        event_record(user=None, kind=Kind.SUSPICIOUS, reason=reason, client=client, data=data, at=now)
    raise SignInThrottled(seconds)


def _check_stuffing(client: Client, now: datetime) -> None:
    start = now - timedelta(minutes=settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES)
    accounts = (
        AccountEvent.objects.filter(
            ip_address=client.ip, kind=Kind.SIGN_IN_FAILED, reason__in=COUNTED_FAILURES, at__gte=start
        )
        .values("identifier")
        .distinct()
        .count()
    )
    if accounts < settings.ACCOUNT_STUFFING_ACCOUNTS:
        return
    already = AccountEvent.objects.filter(
        ip_address=client.ip, kind=Kind.SUSPICIOUS, reason=Suspicion.CREDENTIAL_STUFFING, at__gte=start
    ).exists()
    if not already:
        event_record(
            user=None,
            kind=Kind.SUSPICIOUS,
            reason=Suspicion.CREDENTIAL_STUFFING,
            client=client,
            data={"accounts": accounts, "window_minutes": settings.ACCOUNT_LOCKOUT_WINDOW_MINUTES},
            at=now,
        )


def lockout_release(*, lockout: Lockout, by: User) -> Lockout:
    """An administrator lets a locked-out account sign in again at once (a staff account's lockout only an
    administrator, an administrator's only another superuser: see services.account_status_guard)."""
    from . import services

    if lockout.user is not None:
        services.account_status_guard(user=lockout.user, by=by, action="unlock")
    with transaction.atomic():
        lockout = Lockout.objects.select_for_update(of=("self",)).select_related("user").get(pk=lockout.pk)
        if lockout.released_at is not None or lockout.until <= timezone.now():
            return lockout
        now = timezone.now()
        claimed = Lockout.objects.filter(pk=lockout.pk, released_at__isnull=True).update(
            released_at=now, released_by=by
        )
        if claimed != 1:
            lockout.refresh_from_db()
            return lockout
        lockout.refresh_from_db()
        event_record(
            user=lockout.user,
            kind=Kind.UNLOCK,
            actor=by,
            identifier=lockout.identifier,
            data={"lockout": lockout.pk},
            at=now,
        )
        audit_record(actor=by, action="account.unlock", target=lockout.user or lockout, data={"lockout": lockout.pk})
    return lockout


def lockouts_release_for(*, user: User, by: User) -> int:
    """Release every active lockout of one user (the timeline's "Unlock" button)."""
    from . import services

    # Refused even when nothing is locked: whether an administrator's account is locked out is not for others.
    services.account_status_guard(user=user, by=by, action="unlock")
    active = Lockout.objects.filter(user=user, released_at__isnull=True, until__gt=timezone.now())
    return sum(lockout_release(lockout=lockout, by=by).released_by_id == by.pk for lockout in active)


# --- Suspicious activity ----------------------------------------------------------------------------------


def suspicious_record(
    *, user: User | None, reason: str, client: Client, data: dict[str, Any] | None = None
) -> AccountEvent:
    """Record a suspicious event with its reason; the user is warned by e-mail."""
    event = event_record(user=user, kind=Kind.SUSPICIOUS, reason=reason, client=client, data=data)
    if user is not None and reason in SUSPICION_TEXT:
        context = {
            "what": SUSPICION_TEXT[reason],
            "at": formats.date_format(timezone.localtime(event.at), "DATETIME_FORMAT"),
            "device": client.device.label if client.user_agent else "",
            "ip": client.ip or "",
        }
        notice_send(user=user, notice="suspicious", context=context, once_key=f"suspicious:{event.pk}")
    return event


def _check_new_device(user: User, client: Client, session: AccountSession) -> None:
    earlier = AccountSession.objects.filter(user=user).exclude(pk=session.pk)
    if not earlier.exists():
        return  # the first sign-in is nothing to compare with
    if session.device_key and not earlier.filter(device_key=session.device_key).exists():
        suspicious_record(user=user, reason=Suspicion.NEW_DEVICE, client=client, data={"device": client.device.label})
    elif session.subnet and not earlier.filter(subnet=session.subnet).exists():
        suspicious_record(user=user, reason=Suspicion.NEW_NETWORK, client=client, data={"network": session.subnet})


def check_reset_after_new_device(*, user: User, client: Client) -> None:
    """A password reset within a day of a sign-in from a new device or network is how account takeovers look."""
    since = timezone.now() - timedelta(hours=24)
    if AccountEvent.objects.filter(
        user=user, kind=Kind.SUSPICIOUS, reason__in=[Suspicion.NEW_DEVICE, Suspicion.NEW_NETWORK], at__gte=since
    ).exists():
        suspicious_record(user=user, reason=Suspicion.RESET_AFTER_NEW_DEVICE, client=client)


# --- Signing in ---------------------------------------------------------------------------------------------


def sign_in_check(*, email: str, password: str, client: Client) -> User:
    """Check an e-mail address and password, recording the attempt; returns the user whose password matched.

    Raises SignInThrottled, LockedOut, InvalidCredentials or AccountRestricted. A deactivated account is
    reactivated (signing in again is how a user comes back); a suspension whose end has passed is lifted."""
    from . import services

    email = (email or "").strip()
    identifier = identifier_of(email)
    user = User.objects.filter(email__iexact=email).first() if email else None
    _throttle_check(user=user, identifier=identifier, client=client)
    lockout = lockout_active(identifier=identifier)
    if lockout is not None:
        _record_failure(user=user, identifier=identifier, reason=Reason.LOCKED_OUT, client=client)
        raise LockedOut(lockout.until)
    if user is None:
        make_password(password)  # as long as a real check, so timing does not tell which addresses exist
        _record_failure(user=None, identifier=identifier, reason=Reason.UNKNOWN_ACCOUNT, client=client)
        raise InvalidCredentials()
    if not user.check_password(password):
        _record_failure(user=user, identifier=identifier, reason=Reason.WRONG_PASSWORD, client=client)
        raise InvalidCredentials()
    if user.status == AccountStatus.SUSPENDED and user.suspended_until and user.suspended_until <= timezone.now():
        user = services.user_reinstate(user=user, by=None, reason="The suspension ended.")
    if user.status == AccountStatus.DEACTIVATED:
        user = services.account_reactivate(user=user, by=user, client=client)
    if user.status == AccountStatus.SUSPENDED:
        _record_failure(user=user, identifier=identifier, reason=Reason.SUSPENDED, client=client)
        until = f" until {services.local_text(user.suspended_until)}" if user.suspended_until else ""
        raise AccountRestricted(
            f"This account is suspended{until}: {user.status_reason} Reply to the e-mail we sent to appeal.",
            code="account_suspended",
        )
    if user.status == AccountStatus.BANNED:
        _record_failure(user=user, identifier=identifier, reason=Reason.BANNED, client=client)
        raise AccountRestricted("This account is closed for breaking the marketplace rules.", code="account_banned")
    if not user.is_active:
        # Deleted (anonymised) accounts, or one an administrator switched off in the admin.
        _record_failure(user=user, identifier=identifier, reason=Reason.CLOSED, client=client)
        raise InvalidCredentials()
    return user


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required(user: User) -> bool:
    """Whether this user must use two-factor sign-in: staff in a deciding role, when the setting is on."""
    if not (settings.STAFF_2FA_REQUIRED and user.is_authenticated and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name__in=DECIDING_ROLES).exists()


def session_owes_second_factor(request: HttpRequest) -> bool:
    """Whether the request's signed-in session has yet to pass the second factor its user's role requires."""
    user = cast(User, request.user)
    verified = getattr(user, "is_verified", None)  # installed by django_otp's OTPMiddleware
    if verified is not None and verified():
        return False
    return two_factor_required(user)


def session_store_owes_second_factor(*, user: User, session: SessionBase) -> bool:
    """The same check for a connection that django_otp's middleware never sees (a WebSocket): the session is
    verified when it holds a device of this user, as OTPMiddleware reads it."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and device.user_id == user.pk:
        return False
    return two_factor_required(user)


def second_factor_verify(*, user: User, code: str, client: Client) -> TOTPDevice | StaticDevice:
    """Check a TOTP code or a single-use recovery code; a wrong one counts toward the lockout like a wrong
    password, so the six digits cannot be guessed."""
    code = "".join((code or "").split()).lower()
    identifier = identifier_of(user.email)
    lockout = lockout_active(identifier=identifier)
    if lockout is not None:
        _record_failure(user=user, identifier=identifier, reason=Reason.LOCKED_OUT, client=client)
        raise LockedOut(lockout.until)
    if code:
        with transaction.atomic():
            devices: list[TOTPDevice | StaticDevice] = [
                *TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True),
                *StaticDevice.objects.select_for_update().filter(user=user, confirmed=True),
            ]
            for device in devices:
                if device.verify_token(code):
                    return device
    _record_failure(user=user, identifier=identifier, reason=Reason.BAD_SECOND_FACTOR, client=client)
    raise WrongSecondFactor()


def _session_key(channel: str, key: str) -> str:
    # API tokens are credentials: only their hash is kept. Session keys are already in the session table.
    return hashlib.sha256(key.encode()).hexdigest() if channel == AccountSession.Channel.API else key


def sign_in_complete(
    *, user: User, client: Client, key: str, second_factor: str = "", at: datetime | None = None
) -> AccountSession:
    """Record a successful sign-in: the event, the session with its device, today's activity, and a warning
    when the device or network is new to this user."""
    now = at or timezone.now()
    device = client.device
    channel = client.channel if client.channel in AccountSession.Channel.values else AccountSession.Channel.WEB
    stored_key = _session_key(channel, key)
    with transaction.atomic():
        # A new sign-in with the same API token ends the session that token had.
        AccountSession.objects.filter(key=stored_key, ended_at__isnull=True).update(ended_at=now)
        session = AccountSession.objects.create(
            user=user,
            channel=channel,
            key=stored_key,
            started_at=now,
            last_seen_at=now,
            ip_address=client.ip,
            subnet=client.subnet,
            user_agent=client.user_agent[:300],
            device_type=device.type if client.user_agent else "",
            platform=device.platform,
            browser=device.browser,
            device_key=device.key if client.user_agent else "",
        )
        event_record(
            user=user,
            kind=Kind.SIGN_IN,
            reason=second_factor,
            client=client,
            identifier=identifier_of(user.email),
            data={"session": session.pk},
            at=now,
        )
        User.objects.filter(pk=user.pk).update(last_login=now)
        _check_new_device(user, client, session)
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=now)
    return session


def api_token_reissue(*, user: User, old_key: str) -> str:
    """A new API token for the device that signed in with `old_key`, after every token was revoked (a password
    change made through the API): that device's session goes on under the new key, the others stay ended."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    AccountSession.objects.filter(
        user=user, channel=AccountSession.Channel.API, key=_session_key(AccountSession.Channel.API, old_key)
    ).update(key=_session_key(AccountSession.Channel.API, token.key), ended_at=None)
    return str(token.key)


def sign_out_record(*, user: User, client: Client, key: str) -> None:
    now = timezone.now()
    channel = client.channel if client.channel in AccountSession.Channel.values else AccountSession.Channel.WEB
    ended = AccountSession.objects.filter(key=_session_key(channel, key), ended_at__isnull=True).update(
        ended_at=now, last_seen_at=now
    )
    if ended:
        event_record(user=user, kind=Kind.SIGN_OUT, client=client, at=now)


def session_touch(*, channel: str, key: str) -> None:
    """Note that a session is in use, in the cache only: `sessions_flush` writes last_seen_at in batches."""
    cache.set(f"session-seen:{_session_key(channel, key)}", time.time(), timeout=SEEN_TTL)


def sessions_flush() -> int:
    """Write the cached last-activity times of open sessions (beat, every two minutes); returns rows updated."""
    updated = 0
    open_sessions = (
        AccountSession.objects.filter(ended_at__isnull=True).exclude(key="").only("pk", "key", "last_seen_at")
    )
    batch: list[AccountSession] = []
    for session in open_sessions.iterator(chunk_size=2000):
        batch.append(session)
        if len(batch) == 2000:
            updated += _flush_seen(batch)
            batch = []
    return updated + _flush_seen(batch)


def _flush_seen(sessions: list[AccountSession]) -> int:
    seen = cache.get_many([f"session-seen:{s.key}" for s in sessions])
    changed = []
    for session in sessions:
        stamp = seen.get(f"session-seen:{session.key}")
        if stamp is None:
            continue
        moment = datetime.fromtimestamp(stamp, tz=UTC)
        if moment > session.last_seen_at:
            session.last_seen_at = moment
            changed.append(session)
    AccountSession.objects.bulk_update(changed, ["last_seen_at"], batch_size=1000)
    return len(changed)


# --- Two-factor setup ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoFactorSetup:
    device: TOTPDevice
    secret: str  # base32, for typing into an app
    config_url: str  # otpauth://, for the QR code


def two_factor_begin(*, user: User) -> TwoFactorSetup:
    """Start (or restart) enrolment: a new unconfirmed TOTP device whose secret the user adds to an app."""
    import base64

    if has_two_factor(user):
        raise DomainError("Two-factor sign-in is already on.", code="already_enabled")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return TwoFactorSetup(device=device, secret=secret, config_url=device.config_url)


def two_factor_pending(*, user: User) -> TwoFactorSetup | None:
    import base64

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        return None
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return TwoFactorSetup(device=device, secret=secret, config_url=device.config_url)


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_confirm(*, user: User, code: str, client: Client) -> tuple[TOTPDevice, list[str]]:
    """Finish enrolment with the first code from the app; returns the device and the recovery codes (shown once)."""
    code = "".join((code or "").split())
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None:
            raise DomainError("Start the set-up first.", code="not_started")
        if not (code.isdigit() and device.verify_token(code)):
            raise InvalidInput(
                "That code is not correct: check the time on your phone and enter the current code.",
                fields={"code": ["Wrong code."]},
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        event_record(user=user, kind=Kind.TWO_FACTOR_ENABLED, actor=user, client=client)
        audit_record(actor=user, action="account.two_factor_enable", target=user)
        notice_send(user=user, notice="two_factor_enabled")
    return device, codes


def recovery_codes_regenerate(*, user: User, client: Client) -> list[str]:
    if not has_two_factor(user):
        raise DomainError("Turn on two-factor sign-in first.", code="not_enabled")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        event_record(user=user, kind=Kind.RECOVERY_CODES_GENERATED, actor=user, client=client)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def two_factor_disable(*, user: User, by: User, client: Client, code: str = "") -> None:
    """Turn two-factor sign-in off: the user with a current code, or an administrator for a user who lost the
    phone and the recovery codes. Refused for a user whose role requires it."""
    if by.pk == user.pk:
        if two_factor_required(user):
            raise DomainError("Your role requires two-factor sign-in: it cannot be turned off.", code="required")
        second_factor_verify(user=user, code=code, client=client)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
        if not removed:
            return
        event_record(user=user, kind=Kind.TWO_FACTOR_DISABLED, actor=by, client=client)
        audit_record(actor=by, action="account.two_factor_disable", target=user)
        notice_send(user=user, notice="two_factor_disabled")
