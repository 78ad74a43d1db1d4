"""Flags, cases (one per flagged object), decisions, strikes, appeals, automatic detection and fingerprints.

What can be moderated is open: any model registered with moderation.registry (listings, profiles, messages).
Cases point at their object through a content type and an id; what the queue shows of the content (title,
text) is copied onto the case when it is flagged, so a queue page never loads the objects themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from saypro.sla.models import Clock, OpenClockRow


class Reason(models.TextChoices):
    """Why content is flagged, by a user or by automatic detection."""

    SPAM = "spam", "Spam"
    FRAUD = "fraud", "Fraud or scam"
    PROHIBITED = "prohibited", "Prohibited item"
    INAPPROPRIATE = "inappropriate", "Inappropriate"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    USER = "user", "User report"
    AUTOMATIC = "automatic", "Automatic detection"


class Rule(models.TextChoices):
    """The community rules a removal cites; the user is told which one."""

    SPAM = "spam", "No spam or unsolicited advertising"
    SCAM = "scam", "No fraud, scams or advance-fee requests"
    PROHIBITED = "prohibited", "No prohibited or illegal items"
    OFFENSIVE = "offensive", "No offensive, sexual or violent content"
    MISLEADING = "misleading", "Honest descriptions and prices"
    DUPLICATE = "duplicate", "One listing per item"
    OFF_PLATFORM = "off_platform", "Keep contact and payment on the platform"
    HARASSMENT = "harassment", "No harassment or abuse of other users"
    IMPERSONATION = "impersonation", "No impersonation or fake identities"


class Action(models.TextChoices):
    KEEP = "keep", "Keep (flags dismissed)"
    REMOVE = "remove", "Remove"
    REMOVE_WARN = "remove_warn", "Remove and warn (strike)"
    SUSPEND_USER = "suspend_user", "Remove and suspend the user"
    BAN_USER = "ban_user", "Remove and ban the user"


# What a decision did, for people reading it afterwards ("Removed", not the form's "Remove").
ACTION_DONE: dict[str, str] = {
    Action.KEEP: "Kept (flags dismissed)",
    Action.REMOVE: "Removed",
    Action.REMOVE_WARN: "Removed and warned (strike)",
    Action.SUSPEND_USER: "Removed, user suspended",
    Action.BAN_USER: "Removed, user banned",
}

REMOVING_ACTIONS = (Action.REMOVE, Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER)
STRIKING_ACTIONS = (Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER)


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class Case(OpenClockRow, models.Model):
    """Everything about one flagged object: its flags, detections and decisions, across reopenings."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    content = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=30, help_text="The registered kind: listing, profile, message, …")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderation_cases"
    )
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    # The source and reason of the flags that count most in the current round.
    source = models.CharField(max_length=10, choices=Source.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    severity = models.PositiveSmallIntegerField(default=0, help_text="0–100, from flag weights and detection.")
    flag_count = models.PositiveIntegerField(default=0, help_text="Flags in the current round.")
    auto_score = models.PositiveSmallIntegerField(null=True, blank=True)
    brigading = models.BooleanField(default=False, help_text="A burst of flags from new accounts.")
    # The round counts reopenings: flags and decisions belong to one round each.
    round = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(default=timezone.now, help_text="The first flag of the current round.")
    last_flag_at = models.DateTimeField(default=timezone.now)
    hidden_at = models.DateTimeField(null=True, blank=True, help_text="Hidden automatically, pending the decision.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        "Decision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The latest."
    )
    content_title = models.CharField(max_length=200, blank=True)
    content_text = models.TextField(blank=True)

    clocks = GenericRelation(Clock, content_type_field="target_type", object_id_field="target_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="case_one_per_object"),
        ]
        indexes = [
            models.Index(fields=["status", "-severity"], name="case_open", condition=Q(status="open")),
            models.Index(fields=["author", "-created_at"], name="case_author"),
            models.Index(fields=["decided_at"], name="case_decided"),
            models.Index(fields=["created_at"], name="case_created"),
        ]
        permissions = [
            ("decide_case", "Can decide moderation cases"),
            ("decide_appeal", "Can decide appeals against moderation decisions"),
            ("file_appeal", "Can file an appeal for the author of the content"),
            ("manage_keywords", "Can manage the automatic-detection keywords"),
            ("view_moderation_figures", "Can see moderation figures"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk} ({self.kind} #{self.object_id})"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class Detection(models.Model):
    """One automatic check of one version of some content: its score, level and what it led to."""

    class Level(models.TextChoices):
        CLEAR = "clear", "Clear"
        MEDIUM = "medium", "Medium confidence"
        HIGH = "high", "High confidence"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A hash of the text checked: the same version is never checked twice.
    digest = models.CharField(max_length=40)
    ran_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=10, choices=Level.choices)
    # The thresholds in force (stricter for authors without the verified badge).
    medium_at = models.PositiveSmallIntegerField()
    high_at = models.PositiveSmallIntegerField()
    author_verified = models.BooleanField(default=False)
    spam_probability = models.FloatField(null=True, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: rules only, no model.")
    hidden = models.BooleanField(default=False)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="detections")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "digest"], name="detection_once"),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-ran_at"], name="detection_object"),
            models.Index(fields=["ran_at"], name="detection_ran"),
        ]

    def __str__(self) -> str:
        return f"Detection of {self.kind} #{self.object_id}: {self.score} ({self.level})"


class DetectionSignal(models.Model):
    class Code(models.TextChoices):
        KEYWORD = "keyword", "Keyword"
        LINK = "link", "Link in text"
        PHONE = "phone", "Phone number in text"
        PRICE = "price", "Price far from the category median"
        DUPLICATE = "duplicate", "Near-duplicate of recent content"
        VELOCITY = "velocity", "Posting velocity of a new account"
        CLASSIFIER = "classifier", "Spam classifier"
        RECURRENCE = "recurrence", "Matches removed content"

    detection = models.ForeignKey(Detection, on_delete=models.CASCADE, related_name="signals")
    code = models.CharField(max_length=20, choices=Code.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    weight = models.PositiveSmallIntegerField()
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-weight", "id"]

    def __str__(self) -> str:
        return f"{self.code} (+{self.weight})"


class Flag(models.Model):
    """One report on one object: by a user, or by automatic detection (no reporter, a detection instead)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    round = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderation_flags"
    )
    detection = models.ForeignKey(Detection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    comment = models.TextField(max_length=1000, blank=True)
    # The reporter's record when they flagged (share of past flags upheld), or the detection's confidence.
    weight = models.FloatField(default=1.0)
    brigading = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the reporter was told the outcome.")

    class Meta:
        constraints = [
            # A reporter flags an object once per round: a second flag would only inflate the weight.
            models.UniqueConstraint(
                fields=["case", "round", "reporter"], condition=Q(reporter__isnull=False), name="flag_once_per_round"
            ),
        ]
        indexes = [
            models.Index(fields=["reporter", "outcome"], name="flag_reporter_record"),
            models.Index(fields=["case", "round"], name="flag_case_round"),
            models.Index(fields=["created_at"], name="flag_created"),
        ]

    def __str__(self) -> str:
        return f"Flag #{self.pk} ({self.reason}) on case #{self.case_id}"


class Decision(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    round = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    rule = models.CharField(max_length=20, choices=Rule.choices, blank=True)
    reason = models.TextField(max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    # Whether the case came from automatic detection, kept for the detection's precision figure.
    automatic = models.BooleanField(default=False)
    reversed_at = models.DateTimeField(null=True, blank=True, help_text="Reversed on appeal.")
    # When removed content first came back: a matching new submission, or a new flag on the same object.
    recurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="decision_once_per_round")]
        indexes = [models.Index(fields=["at"], name="decision_at")]

    def __str__(self) -> str:
        return f"{self.action_done} on case #{self.case_id}"

    @property
    def action_done(self) -> str:
        return ACTION_DONE.get(self.action, self.get_action_display())

    @property
    def removes(self) -> bool:
        return self.action in REMOVING_ACTIONS


class Strike(models.Model):
    """A warning on a user's record; active strikes revoke the verified badge and show on every review."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="strikes")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="strikes")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["decision"], name="strike_once_per_decision")]
        indexes = [models.Index(fields=["user", "expires_at"], name="strike_user_active")]

    def __str__(self) -> str:
        return f"Strike on user #{self.user_id} ({self.rule})"


# The SLA metric of an appeal's decision: the clock starts when the appeal is filed and stops when it is decided.
APPEAL_METRIC = "moderation.appeal"


class Appeal(OpenClockRow, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        UPHELD = "upheld", "Decision upheld"
        REVERSED = "reversed", "Decision reversed"

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="appeal")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="appeals")
    appellant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Staff filing for an author who cannot use the app (a suspended account writing to support).
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    statement = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(max_length=2000, blank=True)
    clocks = GenericRelation(Clock, content_type_field="target_type", object_id_field="target_id")

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="appeal_pending", condition=Q(status="pending")),
            models.Index(fields=["decided_at"], name="appeal_decided"),
        ]

    def __str__(self) -> str:
        return f"Appeal #{self.pk} on case #{self.case_id}"


class KeywordRule(models.Model):
    """An admin-managed word or phrase that automatic detection scores (whole words, any case)."""

    phrase = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.SPAM)
    weight = models.PositiveSmallIntegerField(default=40, help_text="Points toward the detection score (1–100).")
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phrase"]

    def __str__(self) -> str:
        return self.phrase


class Fingerprint(models.Model):
    """A near-duplicate fingerprint (MinHash signature) of one version of some content, for duplicate and
    recurrence checks. The six band columns are indexed: see moderation.fingerprints for how they are used."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=30)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signature = models.JSONField(default=list, help_text="MinHash values of the words; empty for very short texts.")
    band0 = models.IntegerField()
    band1 = models.IntegerField()
    band2 = models.IntegerField()
    band3 = models.IntegerField()
    band4 = models.IntegerField()
    band5 = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set on the fingerprints of removed content: a new submission matching it is held for review.
    removed_at = models.DateTimeField(null=True, blank=True)
    removal = models.ForeignKey(Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            *[models.Index(fields=["kind", f"band{i}"], name=f"fingerprint_band{i}") for i in range(6)],
            models.Index(fields=["content_type", "object_id"], name="fingerprint_object"),
            models.Index(fields=["author", "kind", "created_at"], name="fingerprint_velocity"),
            models.Index(fields=["removed_at"], name="fingerprint_removed", condition=Q(removed_at__isnull=False)),
            # The reconciliation sweep's window of recent versions (content without a detection).
            models.Index(fields=["created_at"], name="fingerprint_created"),
        ]

    def __str__(self) -> str:
        return f"Fingerprint of {self.kind} #{self.object_id}"
