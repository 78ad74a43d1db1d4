"""Conversations between one marketplace user and the admin team, their messages, and what routes them.

A conversation's two promises are SLA clocks (saypro.sla): `message.first_response` runs from the first user
message nobody has answered yet to the next human reply, `message.resolution` from the first user message to
the resolution, measured against the policy of the conversation's category and paused while waiting on the user.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils import timezone

from saypro.files import is_image as is_image_type
from saypro.mail import one_line
from saypro.sla.models import Clock


class Category(models.TextChoices):
    GENERAL = "general", "General inquiry"
    SUPPORT = "support", "Support request"
    COMPLAINT = "complaint", "Complaint"
    RENEWAL = "renewal", "Renewal or approval request"
    POLICY = "policy", "Policy violation report"
    MISC = "misc", "Miscellaneous (feedback, suggestions)"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on user"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


# Not resolved: what the backlog, the inbox and agents' load count.
UNRESOLVED_STATUSES = (Status.OPEN, Status.WAITING, Status.ESCALATED)


class Initiator(models.TextChoices):
    USER = "user", "User (inbound)"
    STAFF = "staff", "Admin team (outbound)"


class CategorySource(models.TextChoices):
    NONE = "", "Not categorised"
    RULE = "rule", "Keyword rule"
    MODEL = "model", "Classifier"
    AGENT = "agent", "Set by staff"


class Team(models.TextChoices):
    """Which agents take which categories; the escalation team is the Classified Office."""

    GENERAL = "general", "General enquiries"
    SUPPORT = "support", "Support"
    RENEWALS = "renewals", "Renewals and approvals"
    CLASSIFIED_OFFICE = "classified_office", "Classified Office"


class TeamMembership(models.Model):
    """An agent's place on a category team. An agent may sit on several teams; a team without members
    takes help from every agent who may answer."""

    team = models.CharField(max_length=20, choices=Team.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_teams")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="message_team_member_once")]
        indexes = [models.Index(fields=["team"], name="message_team")]

    def __str__(self) -> str:
        return f"{self.user} on {self.get_team_display()}"


class Conversation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    subject = models.CharField(max_length=200, blank=True)
    initiated_by = models.CharField(max_length=5, choices=Initiator.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    category_source = models.CharField(max_length=5, choices=CategorySource.choices, blank=True)
    category_confidence = models.FloatField(null=True, blank=True, help_text="The classifier's or rule's confidence.")
    # What the classifier proposed when it was too unsure to decide: shown to the agent as a suggestion.
    suggested_category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    category_model_version = models.PositiveIntegerField(null=True, blank=True)
    team = models.CharField(max_length=20, choices=Team.choices, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Snapshots of the user and the ad at the start: routing and reports filter on them without joins.
    language = models.CharField(max_length=10, blank=True)
    region = models.CharField(max_length=100, blank=True)
    ad_category = models.CharField(max_length=60, blank=True, help_text="The marketplace category of the ad, if any.")
    listing_ref = models.CharField(max_length=60, blank=True, help_text="The ad this conversation is about, if any.")
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    # The first user message nobody has answered yet; null when the team has the last word.
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=300, blank=True)
    user_read_at = models.DateTimeField(null=True, blank=True)
    staff_read_at = models.DateTimeField(null=True, blank=True)
    ticket_ref = models.CharField(max_length=40, blank=True, help_text="The support ticket it was converted to.")
    # Set when triage is asked for (a new conversation, or a new message while uncategorised) and cleared by the
    # triage that ran: a second delivery of the task finds nothing to do, and a lost task leaves it set for the
    # reconciliation sweep.
    triage_pending_since = models.DateTimeField(null=True, blank=True)
    # The inbox's sort key, kept by the clock services in the same transaction as each change of its clocks
    # (messaging.sla_handlers): the deadline counting down, the answer's if one is owed, else the resolution's;
    # null while neither runs (paused on the user, or none open).
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    clocks = GenericRelation(Clock, content_type_field="target_type", object_id_field="target_id")

    class Meta:
        indexes = [
            # The inbox lists unresolved conversations by recent activity, per assignee and per category.
            models.Index(
                fields=["status", "last_message_at"],
                name="conversation_unresolved",
                condition=Q(status__in=["open", "waiting", "escalated"]),
            ),
            # The inbox's order, walked from the index a page at a time instead of sorting every open one.
            models.Index(
                fields=["next_due_at", "last_message_at", "id"],
                name="conversation_open_queue",
                condition=Q(status__in=["open", "waiting", "escalated"]),
            ),
            models.Index(fields=["assigned_to", "status"], name="conversation_assignee"),
            models.Index(fields=["category", "status"], name="conversation_category"),
            models.Index(fields=["user", "last_message_at"], name="conversation_user"),
            # Volume reports: arrivals per period and initiator.
            models.Index(fields=["created_at", "initiated_by"], name="conversation_created"),
            models.Index(fields=["resolved_at"], name="conversation_resolved"),
            models.Index(
                fields=["triage_pending_since"],
                name="conversation_triage_pending",
                condition=Q(triage_pending_since__isnull=False),
            ),
        ]
        permissions = [
            ("reply_conversation", "Can answer users' messages"),
            ("start_conversation", "Can start a conversation with a user"),
            ("assign_conversation", "Can assign and transfer conversations"),
            ("escalate_conversation", "Can escalate conversations to the Classified Office"),
        ]

    def __str__(self) -> str:
        return f"Conversation #{self.pk}"

    @property
    def is_resolved(self) -> bool:
        return self.status == Status.RESOLVED

    @property
    def display_subject(self) -> str:
        # One line whatever was stored: e-mail subjects and page titles are built from it.
        return one_line(self.subject) or "(no subject)"


class MessageKind(models.TextChoices):
    USER = "user", "From the user"
    REPLY = "reply", "Reply from the team"
    NOTE = "note", "Internal note"
    AUTO = "auto", "Automatic acknowledgement"
    EVENT = "event", "Activity"


# What the user sees of a thread; notes and activity are for the team only.
PUBLIC_KINDS = (MessageKind.USER, MessageKind.REPLY, MessageKind.AUTO)


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=5, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Moderation hides spam and fraud; the row stays for the case and the audit trail.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=300, blank=True)
    # The canned response a reply was written from, for reports on macro use.
    canned_response_ref = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_thread"),
            models.Index(fields=["created_at", "kind"], name="message_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} in conversation {self.conversation_id}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"message-attachments/{instance.message.conversation_id}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return is_image_type(self.content_type)


class CategoryLabel(models.Model):
    """An agent's category decision on a conversation's text: the training data of the next model."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="category_labels")
    text = models.TextField()
    category = models.CharField(max_length=10, choices=Category.choices)
    previous_category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    previous_source = models.CharField(max_length=5, choices=CategorySource.choices, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="category_label_created")]

    def __str__(self) -> str:
        return f"{self.previous_category or '—'} → {self.category} on conversation {self.conversation_id}"


class ResolutionPolicy(models.Model):
    """Which `message.resolution` policy measures a category (general 48 h, support 72 h, …)."""

    category = models.CharField(max_length=10, choices=Category.choices, unique=True)
    policy = models.ForeignKey("sla.Policy", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "resolution policies"

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.policy}"
