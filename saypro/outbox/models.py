from django.db import models


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
