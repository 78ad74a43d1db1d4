from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task that could not be handed to the broker (Redis down), kept until the broker takes it."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    # JSON-safe delivery options only (countdown, eta as ISO text, expires, queue, priority).
    options = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_name} (stored {self.created_at:%Y-%m-%d %H:%M})"


class MailDelivery(models.Model):
    """One e-mail: kept so that a failure is retried and visible to staff, and so that an e-mail with a once-key
    is sent once even when its task runs twice or the cache was lost (the key is a unique row, not a cache entry).
    """

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    once_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    template = models.CharField(max_length=200)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # The HTML alternative, as sent; blank for a plain-text e-mail.
    html = models.TextField(blank=True)
    # Files attached by reference ({storage, name, filename, mimetype}), read when the e-mail is sent.
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the current attempt started (SENDING) or when the next one is due (FAILED).
    attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "mail deliveries"
        indexes = [
            # The retry task's scan: only unsent rows, which are few.
            models.Index(fields=["attempt_at"], name="mail_unsent", condition=~models.Q(status="sent")),
            models.Index(fields=["created_at"], name="mail_created"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class FollowUpClaim(models.Model):
    """The reconciliation sweep handed one item's follow-up to a worker again (see saypro.outbox.followups).

    One row per (follow-up, item): the sweep re-dispatches an item only when its claim is older than
    FOLLOWUP_RETRY_MINUTES, so a run every few minutes does not enqueue the same item each time. The row whose
    item is empty marks the follow-up's first sweep: work accepted before it is older than the sweep itself.
    """

    followup = models.CharField(max_length=60)
    item = models.CharField(max_length=60)
    dispatched_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["followup", "item"], name="followup_claim_once")]
        indexes = [models.Index(fields=["dispatched_at"], name="followup_claim_at")]

    def __str__(self) -> str:
        return f"{self.followup} {self.item} (×{self.attempts})"
