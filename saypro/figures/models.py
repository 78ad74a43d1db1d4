"""Targets per figure and period: rows are added, never changed, so the targets of past periods stay readable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Target(models.Model):
    """The target of one figure from the period that starts on `period_start` until a later row replaces it.

    The value is in the figure's own unit as the reports print it: 95 for 95 %, 3 for 3 h, 4.5 for a rating.
    """

    figure_key = models.CharField(max_length=80)
    period_start = models.DateField(help_text="The first day of the period (normally a quarter) it applies from.")
    value = models.FloatField()
    note = models.CharField(max_length=300, blank=True, help_text="Why, or the document it comes from.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["figure_key", "-period_start", "-set_at"]
        indexes = [models.Index(fields=["figure_key", "period_start"], name="target_figure_period")]

    def __str__(self) -> str:
        return f"{self.figure_key} from {self.period_start:%Y-%m-%d}: {self.value:g}"
