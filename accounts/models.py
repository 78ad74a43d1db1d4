from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone

from saypro.localtime import local_text
from saypro.sla.models import Clock, OpenClockRow


class AgeBand(models.TextChoices):
    UNDER_18 = "u18", "Under 18"
    B18_24 = "18-24", "18–24"
    B25_34 = "25-34", "25–34"
    B35_44 = "35-44", "35–44"
    B45_54 = "45-54", "45–54"
    B55_64 = "55-64", "55–64"
    B65_PLUS = "65+", "65 and over"
    UNDISCLOSED = "na", "Prefer not to say"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class AccountStatus(models.TextChoices):
    """Where an account stands. Only ACTIVE accounts may sign in or use the API (`is_active` follows it)."""

    ACTIVE = "active", "Active"
    DEACTIVATED = "deactivated", "Deactivated by the user"
    SUSPENDED = "suspended", "Suspended"
    BANNED = "banned", "Banned"
    DELETED = "deleted", "Deleted (anonymised)"


class User(AbstractBaseUser, PermissionsMixin):
    """A marketplace user or a staff member; staff roles are groups (see accounts.roles)."""

    email = models.EmailField(unique=True, max_length=254)
    full_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +27821234567")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, blank=True, default="en")
    age_band = models.CharField(max_length=5, choices=AgeBand.choices, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    id_verified_at = models.DateTimeField(null=True, blank=True)
    # Changed only through accounts.services (user_suspend, user_ban, user_reinstate, account_deactivate, …).
    status = models.CharField(max_length=12, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    suspended_until = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        indexes = [
            models.Index(fields=["date_joined"], name="user_joined"),
            # The expiry sweep reads only suspensions with an end.
            models.Index(fields=["suspended_until"], name="user_suspension_ends", condition=Q(status="suspended")),
        ]
        permissions = [
            ("manage_account_status", "Can suspend, ban and reinstate accounts"),
            ("view_account_timeline", "Can view account timelines and security events"),
            ("unlock_account", "Can release sign-in lockouts"),
            ("process_deletion", "Can complete account deletion requests"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class RegistrationStatus(models.TextChoices):
    STARTED = "started", "Started"
    SCREENING = "screening", "Screening"
    VERIFYING = "verifying", "Awaiting verification"
    NEEDS_REVIEW = "needs_review", "Needs review"
    INFO_REQUESTED = "info_requested", "More information requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# Submitted and not yet decided: the states the 48-hour promise covers.
PENDING_STATUSES = (
    RegistrationStatus.SCREENING,
    RegistrationStatus.VERIFYING,
    RegistrationStatus.NEEDS_REVIEW,
    RegistrationStatus.INFO_REQUESTED,
)
DECIDED_STATUSES = (RegistrationStatus.APPROVED, RegistrationStatus.REJECTED)


class DelayCause(models.TextChoices):
    VERIFICATION_OUTAGE = "verification_outage", "Verification outage"
    REVIEW_BACKLOG = "review_backlog", "Review backlog"
    WAITING_ON_APPLICANT = "waiting_on_applicant", "Waiting on applicant"
    FRAUD_INVESTIGATION = "fraud_investigation", "Fraud investigation"
    OTHER = "other", "Other"


class DeviceType(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    TABLET = "tablet", "Tablet"
    DESKTOP = "desktop", "Desktop"
    OTHER = "other", "Other"


def id_document_path(instance: Registration, filename: str) -> str:
    return f"id-documents/{instance.pk}/{filename}"


class Registration(OpenClockRow, models.Model):
    """One sign-up of one user, from the first step to the decision."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration")
    status = models.CharField(max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.STARTED)
    # Funnel steps, each with its time, so drop-off between steps can be reported.
    started_at = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    profile_completed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # What the applicant sent, as screening saw it.
    canonical_email = models.CharField(max_length=254, db_index=True)
    phone_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    subnet = models.CharField(max_length=50, blank=True, help_text="The /24 (IPv4) or /48 (IPv6) network.")
    user_agent = models.CharField(max_length=400, blank=True)
    device_type = models.CharField(max_length=10, choices=DeviceType.choices, blank=True)
    form_seconds = models.FloatField(null=True, blank=True, help_text="Seconds between serving and posting the form.")
    honeypot_filled = models.BooleanField(default=False)
    id_document = models.FileField(upload_to=id_document_path, blank=True)
    campaign = models.CharField(max_length=50, blank=True, help_text="Marketing campaign code, if any.")
    # What the applicant agreed to when signing up: the privacy notice's and the terms' versions, and when.
    consented_at = models.DateTimeField(null=True, blank=True)
    privacy_version = models.CharField(max_length=20, blank=True)
    terms_version = models.CharField(max_length=20, blank=True)
    # Screening outcome.
    risk_score = models.PositiveIntegerField(default=0)
    screened_at = models.DateTimeField(null=True, blank=True)
    auto_approved = models.BooleanField(default=False)
    # Review.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    info_request = models.TextField(blank=True)
    info_response = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    delay_cause = models.CharField(max_length=30, choices=DelayCause.choices, blank=True)
    delay_note = models.CharField(max_length=300, blank=True)
    # A reviewer who cannot decide hands the registration to the administrators; the 48 h clock keeps running.
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_reason = models.TextField(blank=True)

    clocks = GenericRelation(Clock, content_type_field="target_type", object_id_field="target_id")

    class Meta:
        indexes = [
            # The review queue and the tiles scan only pending rows.
            models.Index(
                fields=["status", "submitted_at"],
                name="registration_pending",
                condition=Q(status__in=["screening", "verifying", "needs_review", "info_requested"]),
            ),
            models.Index(fields=["submitted_at"], name="registration_submitted"),
            models.Index(fields=["decided_at"], name="registration_decided"),
            # The sign-up figures count registrations by the day they started.
            models.Index(fields=["started_at"], name="registration_started"),
            models.Index(fields=["ip_address", "started_at"], name="registration_ip"),
            models.Index(fields=["subnet", "started_at"], name="registration_subnet"),
            models.Index(
                fields=["escalated_at"], name="registration_escalated", condition=Q(escalated_at__isnull=False)
            ),
        ]
        permissions = [
            ("review_registration", "Can review and decide registrations"),
            ("manage_block_rules", "Can manage registration block rules"),
        ]

    def __str__(self) -> str:
        return f"Registration #{self.pk} ({self.canonical_email})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


class SignUpStart(models.Model):
    """A visitor who began the sign-up form: the first field typed in on the page, or an API client's first step.

    The population of the registration conversion rate (document 001: visitors who complete the registration
    compared with those who abandon it midway); a registration links back to the start it completed. Nothing here
    identifies the visitor."""

    class Channel(models.TextChoices):
        WEB = "web", "Sign-up page"
        API = "api", "API"

    token = models.CharField(max_length=32, unique=True, help_text="A random key the form or the client carries.")
    started_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=3, choices=Channel.choices)
    campaign = models.CharField(max_length=50, blank=True)
    registration = models.OneToOneField(
        Registration, null=True, blank=True, on_delete=models.SET_NULL, related_name="signup_start"
    )

    class Meta:
        indexes = [models.Index(fields=["started_at"], name="signupstart_started")]

    def __str__(self) -> str:
        return f"Sign-up started {self.started_at:%Y-%m-%d %H:%M} ({self.get_channel_display()})"


class ReviewGuidelines(models.Model):
    """What makes a registration legitimate, as the administrators write it for the reviewers (one row)."""

    text = models.TextField(
        help_text="Plain text; a blank line starts a new paragraph, a line starting with - a bullet."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "review guidelines"

    def __str__(self) -> str:
        return "Registration review guidelines"


class RegistrationSignal(models.Model):
    """One screening finding: a reason code with its weight toward the risk score."""

    class Code(models.TextChoices):
        DISPOSABLE_EMAIL = "disposable_email", "Disposable e-mail domain"
        DUPLICATE_EMAIL = "duplicate_email", "E-mail already registered"
        DUPLICATE_PHONE = "duplicate_phone", "Phone already registered"
        IP_VELOCITY = "ip_velocity", "Many sign-ups from this IP"
        SUBNET_VELOCITY = "subnet_velocity", "Many sign-ups from this network"
        BLOCK_RULE = "block_rule", "Matches a block rule"
        REREGISTRATION = "reregistration", "Previously rejected or banned identity"
        HONEYPOT = "honeypot", "Hidden form field filled"
        TOO_FAST = "too_fast", "Form filled too fast"
        INCOMPLETE_PROFILE = "incomplete_profile", "Incomplete profile"
        UNVERIFIED = "unverified", "Verification not completed"
        VERIFICATION_UNAVAILABLE = "verification_unavailable", "Automatic verification unavailable"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="signals")
    code = models.CharField(max_length=30, choices=Code.choices)
    weight = models.PositiveIntegerField()
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["registration", "code"], name="registration_signal_once"),
        ]
        indexes = [models.Index(fields=["code"], name="registration_signal_code")]

    def __str__(self) -> str:
        return f"{self.label} (+{self.weight})"

    @property
    def label(self) -> str:
        """The reason in words, also for a code without a label (older screening rules, imported data)."""
        return self.Code(self.code).label if self.code in self.Code.values else words_for(self.code)


class BlockRule(models.Model):
    """An admin-managed rule that marks matching sign-ups as high risk until it expires."""

    class Kind(models.TextChoices):
        EMAIL_DOMAIN = "email_domain", "E-mail domain"
        IP_RANGE = "ip_range", "IP range (CIDR)"
        KEYWORD = "keyword", "Keyword in name or e-mail"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["is_active", "expires_at"], name="blockrule_active")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class IdentityFingerprint(models.Model):
    """A keyed hash of a rejected or banned identity (e-mail, phone), kept after the data itself is gone."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    reason = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "digest"], name="fingerprint_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.digest[:12]}…"


class PhoneCode(models.Model):
    """A 6-digit phone verification code; only its hash is stored."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="phone_codes")
    phone_e164 = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=128)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["registration", "sent_at"], name="phonecode_recent")]

    def __str__(self) -> str:
        return f"Code for {self.phone_e164} sent {local_text(self.sent_at)}"


class AgentProfile(models.Model):
    """What routing needs to know about a staff member who answers users (support, messaging, moderation)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    languages = models.JSONField(default=list, blank=True, help_text='Language codes spoken, e.g. ["en", "zu"].')
    regions = models.JSONField(default=list, blank=True, help_text="Regions covered; empty means every region.")
    working_hours = models.ForeignKey(
        "sla.Calendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent's shift calendar; empty means always on duty.",
    )
    is_available = models.BooleanField(default=True, help_text="Off for leave or breaks: no new assignments.")
    max_open_items = models.PositiveIntegerField(default=40)

    class Meta:
        verbose_name = "shift"
        verbose_name_plural = "shifts"

    def __str__(self) -> str:
        return f"Shift of {self.user}"


# --- Account security, activity and privacy -----------------------------------------------------------------


class AccountEvent(models.Model):
    """One thing that happened to an account: a sign-in attempt, a change, a status decision.

    Rows are only inserted. `data` holds what changed (field names, booleans, masked values), never a secret or
    the full value of a sensitive field. Failed attempts for unknown addresses keep only `identifier`, a keyed
    hash of the address typed.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGN_OUT = "sign_out", "Signed out"
        LOCKOUT = "lockout", "Locked out"
        UNLOCK = "unlock", "Lockout released"
        SUSPICIOUS = "suspicious", "Suspicious activity"
        PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
        PASSWORD_RESET_COMPLETED = "password_reset_completed", "Password reset completed"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        EMAIL_CHANGE_REQUESTED = "email_change_requested", "E-mail change requested"
        EMAIL_CHANGED = "email_changed", "E-mail changed"
        PROFILE_UPDATED = "profile_updated", "Profile updated"
        PREFERENCES_CHANGED = "preferences_changed", "Notification preferences changed"
        PRIVACY_CHANGED = "privacy_changed", "Privacy choice changed"
        TWO_FACTOR_ENABLED = "two_factor_enabled", "Two-factor sign-in enabled"
        TWO_FACTOR_DISABLED = "two_factor_disabled", "Two-factor sign-in disabled"
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", "Recovery codes generated"
        DATA_EXPORTED = "data_exported", "Data exported"
        DELETION_REQUESTED = "deletion_requested", "Deletion requested"
        DELETED = "deleted", "Account deleted"
        DEACTIVATED = "deactivated", "Deactivated"
        REACTIVATED = "reactivated", "Reactivated"
        SUSPENDED = "suspended", "Suspended"
        BANNED = "banned", "Banned"
        REINSTATED = "reinstated", "Reinstated"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="account_events"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    reason = models.CharField(max_length=40, blank=True, help_text="A short code: why it failed, what changed.")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, blank=True, help_text="web, admin, api or system.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    device_type = models.CharField(max_length=10, choices=DeviceType.choices, blank=True)
    identifier = models.CharField(max_length=64, blank=True, help_text="Keyed hash of the e-mail address typed.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "at"], name="accountevent_user_at"),
            models.Index(fields=["kind", "at"], name="accountevent_kind_at"),
            models.Index(fields=["identifier", "at"], name="accountevent_identifier_at"),
            models.Index(fields=["ip_address", "at"], name="accountevent_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.reason_display})" if self.reason else self.get_kind_display()

    @property
    def reason_display(self) -> str:
        if not self.reason:
            return ""
        if self.kind in STATUS_EVENT_KINDS and self.reason in AccountStatus.values:
            # A status change keeps the status it left.
            return f"was {AccountStatus(self.reason).label.lower()}"
        return event_reason_words(self.reason)

    @property
    def data_display(self) -> list[tuple[str, str]]:
        """What changed, as words: status codes by name, empty values left out."""
        shown = []
        for key, value in (self.data or {}).items():
            if value in (None, "", [], {}):
                continue
            if key == "from" and value in AccountStatus.values:
                text = AccountStatus(value).label
            else:
                text = _instant_text(value) or str(value)
            shown.append((words_for(key), text))
        return shown


# AccountEvent.reason holds short codes; these are the words people read for them (admin, timeline, pages).
EVENT_REASON_WORDS = {
    # Why a sign-in failed (accounts.security.Reason).
    "unknown_account": "No account with this e-mail address",
    "wrong_password": "Wrong password",
    "locked_out": "Locked out after repeated failures",
    "suspended": "Account suspended",
    "banned": "Account banned",
    "closed": "Account closed",
    "bad_second_factor": "Wrong two-factor code",
    "throttled": "Too many attempts: sign-in paused",
    # Why activity looked suspicious (accounts.security.Suspicion).
    "new_device": "Sign-in from a new device",
    "new_network": "Sign-in from a new network",
    "failure_burst": "Many failed sign-in attempts",
    "credential_stuffing": "Many accounts tried from one network",
    "reset_after_new_device": "Password reset soon after a new device",
    "address_throttled": "Sign-in paused for this address",
    "network_throttled": "Sign-in paused for this network",
    # How a sign-in was completed.
    "totp": "with an authenticator app",
    "static": "with a recovery code",
    "recovery_code": "with a recovery code",
}
# Where an account event came from (AccountEvent.channel).
EVENT_CHANNEL_WORDS = {"web": "Web site", "admin": "Admin site", "api": "API", "system": "System"}
STATUS_EVENT_KINDS = ("suspended", "banned", "reinstated", "deactivated", "reactivated", "deleted")


def _instant_text(value: object) -> str:
    """An ISO instant kept in event data, in the site's zone and format; "" for anything else."""
    if not isinstance(value, str) or len(value) < 19 or value[10:11] != "T":
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    return local_text(moment) if timezone.is_aware(moment) else ""


def words_for(code: str) -> str:
    """A code people can read when no label was written for it: "name_mismatch" is "Name mismatch"."""
    text = (code or "").replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def event_reason_words(code: str) -> str:
    return EVENT_REASON_WORDS.get(code) or words_for(code)


def channel_words(code: str) -> str:
    return EVENT_CHANNEL_WORDS.get(code) or words_for(code)


class SuspiciousEvent(AccountEvent):
    """The suspicious-activity entries of AccountEvent, listed on their own for administrators."""

    class Meta:
        proxy = True
        verbose_name = "suspicious event"


class Lockout(models.Model):
    """Sign-in refused for one e-mail identifier after repeated failures, until `until` or an admin's release."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="lockouts"
    )
    identifier = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    failures = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["identifier", "until"], name="lockout_active"),
            models.Index(fields=["started_at"], name="lockout_started"),
        ]

    def __str__(self) -> str:
        return f"Lockout of {self.user or self.identifier[:12]} from {local_text(self.started_at)}"

    def is_active(self, at: Any = None) -> bool:
        return self.released_at is None and self.until > (at or timezone.now())


class AccountSession(models.Model):
    """One signed-in session (browser or API token) with its device; duration = last_seen_at − started_at."""

    class Channel(models.TextChoices):
        WEB = "web", "Web"
        ADMIN = "admin", "Admin"
        API = "api", "API"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_sessions")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The session key (web) or a hash of the token (API): what ties requests to this row.
    key = models.CharField(max_length=64, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    subnet = models.CharField(max_length=50, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    device_type = models.CharField(max_length=10, choices=DeviceType.choices, blank=True)
    platform = models.CharField(max_length=50, blank=True, help_text="Operating system family.")
    browser = models.CharField(max_length=50, blank=True)
    # Browser + platform + device type: what "a new device" means when comparing sign-ins.
    device_key = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["started_at"], name="accountsession_started"),
            models.Index(fields=["user", "device_key"], name="accountsession_device"),
            models.Index(fields=["user", "subnet"], name="accountsession_subnet"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} session of {self.user} from {local_text(self.started_at)}"


class ActivityDay(models.Model):
    """What one user did on one local day (TIME_ZONE), counted per feature; written only by the activity flush."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_days")
    day = models.DateField()
    sign_ins = models.PositiveIntegerField(default=0)
    profile_updates = models.PositiveIntegerField(default=0)
    password_changes = models.PositiveIntegerField(default=0)
    messages_sent = models.PositiveIntegerField(default=0)
    listings_posted = models.PositiveIntegerField(default=0)
    transactions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="activityday_once")]
        indexes = [models.Index(fields=["day", "user"], name="activityday_day")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"


class ActivityHour(models.Model):
    """All users' actions in one local hour of one day: the "when are users most active" chart."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    actions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "hour"], name="activityhour_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}:00 ({self.actions})"


class ActivityFlush(models.Model):
    """An activity batch already added to ActivityDay/ActivityHour: a re-run of the flush skips it."""

    batch = models.CharField(max_length=64, unique=True)
    flushed_at = models.DateTimeField(default=timezone.now)
    entries = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.batch


class PasswordReset(models.Model):
    """A password-reset (account recovery) request; completed_at − requested_at is the time to recover."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_resets")
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["requested_at"], name="passwordreset_requested")]

    def __str__(self) -> str:
        return f"Password reset for {self.user} at {local_text(self.requested_at)}"


class EmailChange(models.Model):
    """A requested new e-mail address, waiting for the link sent to it to be followed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField(max_length=254)
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"E-mail change of {self.user} requested {local_text(self.requested_at)}"


class PrivacyChange:
    """AccountEvent.reason of a privacy-choice change: what the privacy report counts."""

    MARKETING_OPT_IN = "marketing_opt_in"
    MARKETING_OPT_OUT = "marketing_opt_out"
    CONSENT_GIVEN = "consent_given"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class AccountPreferences(models.Model):
    """Notification and e-mail preferences and privacy choices; every change is an AccountEvent."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    email_notifications = models.BooleanField(default=True, help_text="E-mail about messages, tickets and listings.")
    sms_notifications = models.BooleanField(default=False)
    product_updates = models.BooleanField(default=True, help_text="Occasional e-mail about new features.")
    marketing_opt_in = models.BooleanField(default=False)
    marketing_changed_at = models.DateTimeField(null=True, blank=True)
    data_processing_consent = models.BooleanField(default=False)
    consent_policy_version = models.CharField(max_length=20, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "account preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class DeletionRequest(models.Model):
    """A user's request to delete their account; an administrator completes it (anonymisation)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletion_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="pending"), name="deletion_one_pending"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="deletion_queue")]

    def __str__(self) -> str:
        return f"Deletion request of {self.user} ({self.get_status_display()})"


class Feedback(models.Model):
    """A rating of the registration or account experience (1–5), or an answer to the NPS question (0–10)."""

    class Topic(models.TextChoices):
        REGISTRATION = "registration", "Registration experience"
        ACCOUNT = "account", "Account experience"
        NPS = "nps", "Would recommend (NPS)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    topic = models.CharField(max_length=15, choices=Topic.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["topic", "created_at"], name="feedback_topic_at")]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.get_topic_display()}: {self.score}"


class NpsPrompt(models.Model):
    """The would-you-recommend question put to a user after they managed their account (document 001: NPS based on
    the experience with account management). At most one per user in a while; answering closes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nps_prompts")
    after = models.CharField(max_length=30, help_text="The account event that led to the question.")
    asked_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    feedback = models.OneToOneField(Feedback, null=True, blank=True, on_delete=models.SET_NULL, related_name="prompt")

    class Meta:
        indexes = [
            models.Index(fields=["user", "asked_at"], name="npsprompt_user_asked"),
            models.Index(fields=["asked_at"], name="npsprompt_asked"),
        ]

    def __str__(self) -> str:
        return f"NPS question to {self.user} ({'answered' if self.answered_at else 'open'})"


class FeatureRelease(models.Model):
    """A newly released feature whose use is tracked (document 001: how often users interact with features), from
    its release on. Administrators add one when a feature ships; the marketplace reports each use."""

    key = models.SlugField(max_length=50, unique=True, help_text="What the app sends, e.g. saved-searches.")
    name = models.CharField(max_length=100)
    released_on = models.DateField()
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-released_on", "name"]

    def __str__(self) -> str:
        return f"{self.name} (released {self.released_on:%d %b %Y})"


class FeatureUse(models.Model):
    """One user's use of a released feature on one local day: the day's count of uses."""

    feature = models.ForeignKey(FeatureRelease, on_delete=models.CASCADE, related_name="uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feature_uses")
    day = models.DateField()
    uses = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feature", "user", "day"], name="featureuse_once_a_day")]
        indexes = [models.Index(fields=["day", "feature"], name="featureuse_day")]

    def __str__(self) -> str:
        return f"{self.feature.key} by {self.user_id} on {self.day}"
