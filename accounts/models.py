from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone

from saypro.sla.models import Clock


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

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        indexes = [models.Index(fields=["date_joined"], name="user_joined")]

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


class Registration(models.Model):
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
            models.Index(fields=["ip_address", "started_at"], name="registration_ip"),
            models.Index(fields=["subnet", "started_at"], name="registration_subnet"),
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
        return f"{self.code} (+{self.weight})"


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
        return f"Code for {self.phone_e164} sent {self.sent_at:%Y-%m-%d %H:%M}"


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

    def __str__(self) -> str:
        return f"Agent profile of {self.user}"
