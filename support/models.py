"""Support tickets, their SLA policies, triage, canned responses, satisfaction surveys and the help center.

Deadlines are clocks of the SLA kernel (`ticket.first_response`, `ticket.resolution`, and for a live chat also
`chat.first_response`, in minutes); a ticket stores the support policy that chose its targets so a change of
priority, channel or department can re-check the choice.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from saypro.files import is_image as is_image_type
from saypro.sla.models import Clock, OpenClockRow, open_clock_breached

FIRST_RESPONSE = "ticket.first_response"
RESOLUTION = "ticket.resolution"
# A live chat's own promise: the first answer within minutes of the user's first message (the kernel's default policy).
CHAT_FIRST_RESPONSE = "chat.first_response"


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Live chat"
    SOCIAL = "social", "Social media"
    IN_APP = "in_app", "In-app report"
    CONVERSATION = "conversation", "Converted conversation"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending on user"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# Work still on the team's desk: counted as agent load, listed in the queues.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Category(models.TextChoices):
    QUESTION = "question", "Question"
    PROBLEM = "problem", "Problem"
    PLATFORM_ISSUE = "platform_issue", "Platform issue"
    ACCOUNT = "account", "Account"
    PAYMENT = "payment", "Payment"
    ORDER = "order", "Order"
    FEEDBACK = "feedback", "Feedback"


class TriageSource(models.TextChoices):
    RULE = "rule", "Rule"
    MODEL = "model", "Classifier"
    AGENT = "agent", "Agent"
    CALLER = "caller", "Given on creation"
    NONE = "none", "Not triaged"


# Triage's own choices: an agent's transfer away from one of these is a misroute.
MISROUTABLE = (TriageSource.RULE, TriageSource.MODEL)


class Department(models.Model):
    """A support team: tickets are routed to one; its members form "my team" and its lead gets follow-ups."""

    slug = models.SlugField(max_length=40, unique=True, help_text="The classifier's label for this department.")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="support_departments")
    team_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupportPolicy(models.Model):
    """One entry of the ordered SLA policy list: the first active policy whose conditions match wins.

    An empty condition matches everything. The targets per priority are kernel policies (saypro.sla.Policy), each
    with its own calendar, so business or calendar hours are chosen per policy.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Lower positions are checked first.")
    is_active = models.BooleanField(default=True)
    priorities = models.JSONField(default=list, blank=True, help_text='e.g. ["urgent", "high"]; empty: any.')
    channels = models.JSONField(default=list, blank=True, help_text='e.g. ["chat"]; empty: any.')
    departments = models.ManyToManyField(Department, blank=True, help_text="Empty: any department.")

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "support policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        bad = [p for p in self.priorities or [] if p not in Priority.values]
        if bad:
            raise ValidationError({"priorities": f"Unknown priorities: {', '.join(map(str, bad))}."})
        bad = [c for c in self.channels or [] if c not in Channel.values]
        if bad:
            raise ValidationError({"channels": f"Unknown channels: {', '.join(map(str, bad))}."})


class SupportTarget(models.Model):
    """The first-response and resolution targets of one priority under one support policy."""

    support_policy = models.ForeignKey(SupportPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response = models.ForeignKey(
        "sla.Policy",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"metric": FIRST_RESPONSE},
    )
    resolution = models.ForeignKey(
        "sla.Policy", on_delete=models.PROTECT, related_name="+", limit_choices_to={"metric": RESOLUTION}
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["support_policy", "priority"], name="support_target_once_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.support_policy}: {self.get_priority_display()}"

    def clean(self) -> None:
        if self.first_response_id and self.first_response.metric != FIRST_RESPONSE:
            raise ValidationError({"first_response": f"Choose a policy measuring {FIRST_RESPONSE}."})
        if self.resolution_id and self.resolution.metric != RESOLUTION:
            raise ValidationError({"resolution": f"Choose a policy measuring {RESOLUTION}."})


class KnownIssue(models.Model):
    """A platform fault several reports may share, from discovery to its fix."""

    class State(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        FIXED = "fixed", "Fixed"
        WONT_FIX = "wont_fix", "Won't fix"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=15, choices=State.choices, default=State.INVESTIGATING)
    fix = models.TextField(blank=True, help_text="What was changed, for the transparency summary.")
    found_at = models.DateTimeField(default=timezone.now)
    fixed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-found_at"]
        indexes = [
            models.Index(fields=["found_at"], name="knownissue_found"),
            models.Index(fields=["fixed_at"], name="knownissue_fixed"),
        ]

    def __str__(self) -> str:
        return self.title


class Ticket(OpenClockRow, models.Model):
    # Erasing an account erases its tickets with it, as it does its conversations.
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_tickets")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    channel = models.CharField(max_length=15, choices=Channel.choices, default=Channel.WEB)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.QUESTION)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    cc_emails = models.JSONField(default=list, blank=True, help_text="Addresses copied on public replies.")
    language = models.CharField(max_length=10, blank=True)
    region = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    support_policy = models.ForeignKey(SupportPolicy, null=True, blank=True, on_delete=models.SET_NULL)
    # Triage: where the department came from, so every routing decision explains itself.
    triage_source = models.CharField(max_length=10, choices=TriageSource.choices, default=TriageSource.NONE)
    triage_rule = models.ForeignKey("TriageRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    triage_model_version = models.PositiveIntegerField(null=True, blank=True)
    triage_confidence = models.FloatField(null=True, blank=True)
    triage_label = models.CharField(max_length=40, blank=True, help_text="What the classifier predicted.")
    needs_triage = models.BooleanField(default=False, help_text="Low confidence: an agent sets the department.")
    # When an agent first moved the ticket away from the department a rule or the classifier chose: set with the
    # transfer, so the misroute rate reads a column of the period's tickets instead of searching their transfers.
    misrouted_at = models.DateTimeField(null=True, blank=True)
    # Where it came from: "conversation:42", "email:<message-id>", …; and what the client captured (report an issue).
    source = models.CharField(max_length=100, blank=True)
    context = models.JSONField(default=dict, blank=True)
    known_issue = models.ForeignKey(
        KnownIssue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # A live chat an agent turned into an ordinary ticket: it leaves the chat panel and goes on by e-mail.
    chat_ended_at = models.DateTimeField(null=True, blank=True)
    # How far the requester has read their live chat (the last message id they saw, and when): an agent's reply
    # they read live is not e-mailed to them.
    chat_read_message_id = models.PositiveBigIntegerField(null=True, blank=True)
    chat_read_at = models.DateTimeField(null=True, blank=True)

    clocks = GenericRelation(Clock, content_type_field="target_type", object_id_field="target_id")

    class Meta:
        indexes = [
            # The queues scan open tickets only.
            models.Index(
                fields=["status", "assignee", "created_at"],
                name="ticket_open_queue",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
            ),
            models.Index(fields=["needs_triage", "created_at"], name="ticket_triage", condition=Q(needs_triage=True)),
            models.Index(fields=["requester", "created_at"], name="ticket_requester"),
            models.Index(fields=["department", "status"], name="ticket_department"),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["category", "created_at"], name="ticket_category"),
            models.Index(fields=["solved_at"], name="ticket_solved"),
            models.Index(fields=["closed_at"], name="ticket_closed"),
            # The solved and closed views' indexes (their order, NULLS LAST) are in migration 0010, on PostgreSQL
            # only: SQLite cannot index NULLS LAST.
            # The chat panel's queue scans live chats still open, oldest first.
            models.Index(
                fields=["created_at"],
                name="ticket_live_chats",
                condition=Q(
                    channel="chat", chat_ended_at__isnull=True, status__in=["new", "open", "pending", "on_hold"]
                ),
            ),
        ]
        permissions = [
            ("reply_ticket", "Can answer tickets and change their status"),
            ("view_support_figures", "Can see support metrics"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def first_response_breached(self) -> bool:
        """Whether the open first-response clock annotated on the ticket (see support.selectors) is breached."""
        return open_clock_breached(self, prefix="first_response_")


def attachment_path(instance: TicketAttachment, filename: str) -> str:
    return f"support/{instance.message.ticket_id}/{instance.message_id}/{filename}"


class TicketMessage(models.Model):
    class Kind(models.TextChoices):
        REQUESTER = "requester", "From the requester"
        REPLY = "reply", "Public reply"
        NOTE = "note", "Internal note"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    macro = models.ForeignKey("Macro", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Acknowledgements and other automatic replies never count as a first response.
    is_automatic = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketmessage_ticket")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"


class TicketAttachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return is_image_type(self.content_type)


class DepartmentTransfer(models.Model):
    """An agent moved a ticket to another department: a label for retraining and a misroute when triage chose."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    from_department = models.ForeignKey(Department, null=True, on_delete=models.SET_NULL, related_name="+")
    to_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    # The routing that was corrected (rule, model, caller, none) and the text it saw.
    corrected_source = models.CharField(max_length=10, choices=TriageSource.choices)
    text = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["at"], name="transfer_at")]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.from_department} → {self.to_department}"


class TriageRule(models.Model):
    """Checked before the classifier, in position order: any keyword found in the subject or body matches."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    keywords = models.JSONField(default=list, help_text='Words or phrases, e.g. ["refund", "charged twice"].')
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE)
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True, help_text="Raise to this.")
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A canned response with {{ placeholders }}; per department (or all), for tickets and/or conversations."""

    name = models.CharField(max_length=100)
    body = models.TextField(help_text="Placeholders: {{ requester_name }}, {{ agent_name }}, {{ ticket_id }}, …")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, help_text="Empty: every department."
    )
    for_tickets = models.BooleanField(default=True)
    for_conversations = models.BooleanField(default=False)
    set_status = models.CharField(
        max_length=10, choices=Status.choices, blank=True, help_text="Status the ticket moves to when used."
    )
    is_active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PointsEntry(models.Model):
    """The user's points ledger: one row per credit or debit, never updated; the balance is their sum."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries")
    points = models.IntegerField()
    reason = models.CharField(max_length=200)
    # Makes a credit idempotent: "survey:17" is credited once however often the answer arrives.
    key = models.CharField(max_length=100, unique=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "at"], name="points_user_at")]
        verbose_name_plural = "points entries"

    def __str__(self) -> str:
        return f"{self.points:+d} for {self.user_id}: {self.reason}"


class Survey(models.Model):
    """One satisfaction survey for one resolution of a ticket or a conversation (a generic target)."""

    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    resolved_at = models.DateTimeField(help_text="The resolution this survey asks about.")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="surveys")
    # Recorded at send time, so a later transfer does not move the rating to someone else.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="rated_surveys"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=15, choices=Channel.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="The first answer.")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id", "resolved_at"], name="survey_once_per_resolution"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="survey_rating_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["sent_at"], name="survey_sent"),
            models.Index(fields=["target_type", "target_id"], name="survey_target"),
        ]

    def __str__(self) -> str:
        return f"Survey #{self.pk} ({self.rating or 'no answer'})"


class SurveyFollowUp(models.Model):
    """A low rating (1–2) asks a team lead to contact the user."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="follow_up")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["done_at", "created_at"], name="followup_open")]
        permissions = [("handle_followup", "Can follow up low satisfaction ratings")]

    def __str__(self) -> str:
        return f"Follow-up of survey #{self.survey_id}"


# --- Help center ---------------------------------------------------------------------------------------------


class ArticleCategory(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "article categories"

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    category = models.ForeignKey(ArticleCategory, on_delete=models.PROTECT, related_name="articles")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    body = models.TextField(help_text="Markdown; HTML is sanitised when shown.")
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    views = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category__position", "title"]
        indexes = [models.Index(fields=["is_published", "category"], name="article_published")]

    def __str__(self) -> str:
        return self.title


class ArticleVote(models.Model):
    """One helpfulness vote per article and voter (a user, or an anonymous visitor's session key)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "voter"], name="article_vote_once")]

    def __str__(self) -> str:
        return f"{'+' if self.helpful else '-'} {self.article_id}"


class Guidance(models.Model):
    """A question answered with articles before a ticket; read and not followed by a ticket, it is a deflection."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    question = models.TextField()
    asked_at = models.DateTimeField(default=timezone.now)
    suggested = models.JSONField(default=list, help_text="[[article id, confidence], …], best first.")
    confidence = models.FloatField(default=0.0)
    read_article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["asked_at"], name="guidance_asked")]
        verbose_name_plural = "guidance"

    def __str__(self) -> str:
        return f"Guidance #{self.pk}"


# --- What comments are about -----------------------------------------------------------------------------------


class CommentTopic(models.Model):
    """A group of survey and feedback comments that talk about the same thing, found by the weekly topic model.

    A refresh that finds a topic again (mostly the same top terms) keeps its row, so an improvement logged from it
    keeps measuring the same subject; a topic no longer found is retired, not deleted.
    """

    label = models.CharField(max_length=120, help_text="Its top terms, in words.")
    terms = models.JSONField(default=list, help_text="The terms that weigh most in it, heaviest first.")
    is_active = models.BooleanField(default=True, help_text="Found by the latest refresh.")
    created_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["label", "pk"]
        permissions = [("read_topic_comments", "Can read the comments behind a topic")]

    def __str__(self) -> str:
        return self.label


class TopicAssignment(models.Model):
    """Which topic one comment belongs to. The comment stays on its survey or feedback row (it is personal data);
    only the reference, and the day it was given, are kept here."""

    topic = models.ForeignKey(CommentTopic, on_delete=models.CASCADE, related_name="assignments")
    survey = models.OneToOneField(
        Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="topic_assignment"
    )
    feedback = models.OneToOneField(
        "accounts.Feedback", null=True, blank=True, on_delete=models.CASCADE, related_name="topic_assignment"
    )
    commented_at = models.DateTimeField(help_text="When the comment was given: it places it in a period.")
    # How close the comment is to its topic (cosine similarity to the topic's centre): the examples shown first.
    closeness = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(survey__isnull=False, feedback__isnull=True)
                | Q(survey__isnull=True, feedback__isnull=False),
                name="topic_assignment_one_comment",
            ),
        ]
        indexes = [models.Index(fields=["topic", "commented_at"], name="topic_assignment_at")]

    def __str__(self) -> str:
        return f"Comment in topic #{self.topic_id}"
