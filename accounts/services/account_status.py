"""Account status: suspension, ban, reinstatement, deactivation, and who may change whose."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone

from accounts import roles
from accounts.events import SYSTEM, Client, event_record, notice_send
from accounts.identity import canonical_email, fingerprint
from accounts.models import (
    AccountSession,
    AccountStatus,
    IdentityFingerprint,
    Registration,
    User,
)
from accounts.services.base import Kind
from saypro.audit.services import audit_record
from saypro.errors import DomainError, InvalidInput

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
