"""Daily rollups that reports and history charts read, report runs with their files, and the improvement log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from saypro.localtime import local_midnight

from .document import FILTER_LABELS, filters_text


class DailyRollup(models.Model):
    """One day's figures of one metric and one dimension value (blank for the total), in TIME_ZONE days.

    `values` holds named numbers (counts and sums, never averages), so that any range of days adds up.
    """

    metric = models.CharField(max_length=60)
    dimension = models.CharField(max_length=120, blank=True, default="")
    day = models.DateField()
    values = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "dimension", "day"], name="rollup_one_row"),
        ]
        indexes = [models.Index(fields=["metric", "day", "dimension"], name="rollup_metric_day")]

    def __str__(self) -> str:
        return f"{self.metric}[{self.dimension}] {self.day}: {self.values}"


class RollupCoverage(models.Model):
    """Which days a rollup source holds: every day from first_day to last_day, recomputed at refreshed_at."""

    source = models.CharField(max_length=60, unique=True)
    first_day = models.DateField()
    last_day = models.DateField()
    refreshed_at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text="How long the last refresh of this source took.")

    def __str__(self) -> str:
        return f"{self.source}: {self.first_day} to {self.last_day}"


class ReportKind(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Generating"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


def report_file_path(instance: ReportRun, filename: str) -> str:
    return f"reports/{instance.kind}/{instance.period_slug}/{filename}"


class ReportRun(models.Model):
    """One report of one kind, period and set of filters. Generating it again replaces its files: one row per kind,
    period and filters (the scheduled reports have none)."""

    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    period_slug = models.CharField(max_length=30, help_text="e.g. 2026-W07, 2026-02, 2026-Q1")
    # The documents' custom reports: dimension -> value (inquiry type, ad category, region), applied to the
    # figures that can be split by them; `filters_key` is the same in one canonical string, blank without filters.
    filters = models.JSONField(default=dict, blank=True)
    filters_key = models.CharField(max_length=300, blank=True, default="")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Exclusive.")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=120, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled = models.BooleanField(default=False, help_text="Started by the schedule rather than by a person.")
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moved on every progress step: a generating run whose heartbeat stopped lost its worker (see runs_recover).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    generations = models.PositiveIntegerField(default=0, help_text="How many times this report was generated.")
    # The generation whose e-mails went to the subscribers: behind `generations` on a finished scheduled run, the
    # delivery is still to do (the reconciliation sweep finds the runs whose delivery task was lost).
    delivered_generation = models.PositiveIntegerField(default=0)
    # The failed attempt (its finish time) whose notice went to the administrators: behind `finished_at` on a failed
    # run, the notice is still to send (the reconciliation sweep finds the runs whose notice task was lost).
    failure_notified_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The document as generated: the HTML preview renders it, the API serves it.
    document = models.JSONField(null=True, blank=True)
    pdf = models.FileField(upload_to=report_file_path, blank=True)
    xlsx = models.FileField(upload_to=report_file_path, blank=True)
    csv = models.FileField(upload_to=report_file_path, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    csv_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_slug", "filters_key"], name="report_run_once_per_filters"),
        ]
        indexes = [
            models.Index(fields=["-period_start", "kind"], name="report_run_recent"),
            models.Index(fields=["status"], name="report_run_active", condition=Q(status__in=["queued", "running"])),
            models.Index(
                fields=["finished_at"],
                name="report_run_undelivered",
                condition=Q(status="done", scheduled=True, delivered_generation__lt=F("generations")),
            ),
            models.Index(fields=["finished_at"], name="report_run_failed", condition=Q(status="failed")),
        ]
        permissions = [
            ("download_report", "Can preview and download reports"),
            ("generate_report", "Can generate reports on demand"),
            ("view_metrics", "Can read the metrics API"),
        ]

    def __str__(self) -> str:
        filtered = f" ({filters_text(self.filters)})" if self.filters else ""
        return f"{self.get_kind_display()} report {self.period_slug}{filtered}"

    @property
    def to_date(self) -> bool:
        """Whether the report covers its period only to date: it was (or is being) generated before the end."""
        return (self.started_at or timezone.now()) < local_midnight(self.period_end)

    @property
    def filters_text(self) -> str:
        return filters_text(self.filters)

    @property
    def file_stem(self) -> str:
        """The name each download carries, whatever name the storage gave the file."""
        stem = f"saypro-{self.kind}-{self.period_slug}"
        # In FILTER_LABELS' order: PostgreSQL's jsonb keeps keys in an order of its own.
        words = " ".join(f"{name} {self.filters[name]}" for name in FILTER_LABELS if self.filters.get(name))
        return f"{stem}-{slugify(words)}" if words else stem


class Improvement(models.Model):
    """A change made to the product or the operation, kept by administrators for the quarterly report."""

    class Kind(models.TextChoices):
        FEATURE = "feature", "Feature update"
        OPTIMISATION = "optimisation", "System optimisation"
        FEEDBACK = "feedback", "Change from user feedback"

    kind = models.CharField(max_length=15, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    area = models.CharField(max_length=20, blank=True, help_text="accounts, messaging, support or moderation")
    made_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The comment topic it answers: the report measures the topic's comments before and after `made_on`.
    topic = models.ForeignKey(
        "support.CommentTopic", null=True, blank=True, on_delete=models.SET_NULL, related_name="improvements"
    )

    class Meta:
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["made_on"], name="improvement_made_on")]
        permissions = [("log_topic_improvement", "Can log an improvement answering a comment topic")]

    def __str__(self) -> str:
        return f"{self.made_on}: {self.title}"


class StaffingAlert(models.Model):
    """A queue whose forecast breaches its deadline before the next shift starts (reports.staffing): raised once per
    queue and shift window, e-mailed to the managers on duty, and shown on the dashboard until the window ends."""

    metric = models.CharField(max_length=60)
    # The end of the window the alert speaks for: the next shift's start, or when nobody comes on duty within the
    # forecast's horizon, that horizon's last midnight (so that the alert is not repeated every run).
    window_end = models.DateTimeField()
    next_shift_at = models.DateTimeField(null=True, blank=True)
    # The hour from which items are projected to wait past their deadline, and how many at worst.
    breach_at = models.DateTimeField()
    breaching = models.PositiveIntegerField()
    open_items = models.PositiveIntegerField()
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "window_end"], name="staffing_alert_once")]
        indexes = [models.Index(fields=["window_end"], name="staffing_alert_window")]

    def __str__(self) -> str:
        return f"{self.metric}: breach projected from {self.breach_at:%Y-%m-%d %H:%M}"


class ReportSubscription(models.Model):
    """A manager or administrator who receives a kind of report by e-mail each time its scheduled run completes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions")
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="report_subscription_once")]

    def __str__(self) -> str:
        return f"{self.user} receives the {self.get_kind_display().lower()} report"
