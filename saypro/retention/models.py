from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class RetentionPolicy(models.Model):
    """How long one kind of personal data is kept; one row per kind an app declares (saypro.retention.registry)."""

    kind = models.CharField(max_length=60, unique=True)
    days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(3650)], help_text="Kept this many days, then purged."
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_purged = models.PositiveIntegerField(default=0, help_text="Items purged by the last daily run.")

    class Meta:
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        from .registry import data_kind

        kind = data_kind(self.kind)
        return kind.label if kind else self.kind
