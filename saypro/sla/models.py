"""The SLA kernel's tables: calendars, policies, clocks and the clocks' event log.

Every promise of the product is a Clock on an object. Apps start, pause, resume and stop clocks through
saypro.sla.services; none computes a deadline itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ExpressionWrapper, F, Q


class Calendar(models.Model):
    class Kind(models.TextChoices):
        ALWAYS = "always", "24/7"
        BUSINESS = "business", "Business hours"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ALWAYS)
    time_zone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """One working interval on a weekday; several rows on one weekday make a split shift."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday … 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.weekday > 6:
            raise ValidationError({"weekday": "Use 0 (Monday) to 6 (Sunday)."})
        if self.end <= self.start:
            raise ValidationError({"end": "The end must be after the start."})


class Holiday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Policy(models.Model):
    """A target for one metric, measured on one calendar, with its warning points."""

    metric = models.CharField(max_length=50, db_index=True)
    name = models.CharField(max_length=100)
    target = models.DurationField()
    warn_percents = models.JSONField(default=list, help_text="Warning points in % of the target, e.g. [75, 90].")
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    is_default = models.BooleanField(default=False, help_text="The policy used when the caller names none.")

    class Meta:
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["metric"], condition=Q(is_default=True), name="policy_one_default"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.metric})"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


# Not stopped. Listed rather than negated: a negation on a joined table comes out as "<> 'stopped' OR IS NULL",
# which a partial index on "<> 'stopped'" does not match.
OPEN_STATES = (ClockState.RUNNING, ClockState.PAUSED)


class OpenClockRow:
    """`is_breached` and `is_at_risk` of a row that `sla.selectors.with_open_clock` annotated with its open clock,
    judged at the instant the queue was read, as `open_breached_filter` and `at_risk_filter` judge a clock in SQL.
    Judged here rather than by CASE expressions in the queue's SQL: building those cost a queue request more than
    judging its page of rows. A row read without the annotation is neither."""

    @property
    def is_breached(self) -> bool:
        return open_clock_breached(self)

    @property
    def is_at_risk(self) -> bool:
        return open_clock_at_risk(self)


# The columns with_open_clock annotates a row with, before any prefix.
OPEN_CLOCK_COLUMNS = ("clock_state", "due_at", "risk_at", "breached_at")


def _open_clock_of(row: object, prefix: str) -> tuple[Any, ...]:
    """The instant `row` was read at and its open clock's state, due, risk and breach instants (Nones when the row
    was read without them)."""
    return tuple(getattr(row, name, None) for name in ("clock_now", *(prefix + c for c in OPEN_CLOCK_COLUMNS)))


def open_clock_breached(row: object, prefix: str = "") -> bool:
    """Whether the open clock annotated on `row` (with_open_clock's columns, under `prefix`) is breached: its breach
    recorded by the sweep, or running past its deadline before the sweep came."""
    now, state, due_at, _, breached_at = _open_clock_of(row, prefix)
    if now is None:
        return False
    return breached_at is not None or (state == ClockState.RUNNING and due_at is not None and due_at <= now)


def open_clock_at_risk(row: object, prefix: str = "") -> bool:
    """Whether the open clock annotated on `row` is running past its risk point, not yet due, not breached."""
    now, state, due_at, risk_at, breached_at = _open_clock_of(row, prefix)
    if now is None or state != ClockState.RUNNING or breached_at is not None or due_at is None or risk_at is None:
        return False
    return bool(risk_at <= now < due_at)


class Clock(models.Model):
    """One deadline on one object. At most one clock per metric and object is open at a time."""

    metric = models.CharField(max_length=50)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="clocks")
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # The 75 % point: from here on the item is "at risk". Null while paused.
    risk_at = models.DateTimeField(null=True, blank=True)
    # The next warn or due point the sweep must look at; null when nothing is left to do (paused, breached, stopped).
    next_check_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining_seconds = models.FloatField(null=True, blank=True, help_text="Calendar seconds left when paused.")
    paused_seconds = models.FloatField(default=0)
    warned_percent = models.PositiveSmallIntegerField(default=0)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    met = models.BooleanField(null=True)
    # Wall-clock seconds from start to stop, less the paused time: the "time to decision" of reports.
    elapsed_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "target_type", "target_id"],
                condition=~Q(state="stopped"),
                name="clock_one_open_per_target",
            ),
        ]
        indexes = [
            # The sweep: running clocks whose next point has passed, read in (next_check_at, id) keyset pages: the
            # id in the index lets each page start where the last one ended, even among clocks due at one instant.
            models.Index(
                fields=["next_check_at", "id"], name="clock_sweep_keyset", condition=Q(next_check_at__isnull=False)
            ),
            # Live tiles: open clocks per metric by deadline.
            models.Index(fields=["metric", "due_at"], name="clock_open_due", condition=~Q(state="stopped")),
            # The queues, "breached first, then by deadline": an index scan in that order over the open clocks
            # of one metric, read LIMIT rows at a time, whatever the size of the backlog. The breached and
            # at-risk conditions (state, breached_at, risk_at) are read from the index itself, so a bounded count
            # of breached or at-risk clocks is an index-only scan that stops after its rows (the planner chose a
            # bitmap of the whole breached range before). Not the target: with it the moderator queue's join read
            # the whole metric from this index, in the wrong order, rather than clock_open_due in deadline order.
            models.Index(
                F("metric"),
                ExpressionWrapper(Q(breached_at__isnull=True), output_field=models.BooleanField()),
                F("due_at"),
                name="clock_open_queue",
                # Spelled as the queues' joins spell an open clock, so the planner sees the index applies.
                condition=Q(state__in=OPEN_STATES),
                include=["state", "breached_at", "risk_at"],
            ),
            # The at-risk views and counts: running clocks not yet breached, by their risk point.
            models.Index(
                fields=["metric", "risk_at"],
                name="clock_open_risk",
                condition=Q(state="running", breached_at__isnull=True),
            ),
            # Compliance per deadline date.
            models.Index(fields=["metric", "due_at", "state"], name="clock_metric_due"),
            models.Index(fields=["metric", "stopped_at"], name="clock_metric_stopped"),
            # Arrivals per hour: the staffing forecast reads the same hours of past weeks every quarter hour.
            models.Index(fields=["metric", "started_at"], name="clock_metric_started"),
            models.Index(fields=["target_type", "target_id"], name="clock_target"),
        ]
        permissions = [("view_compliance", "Can see SLA compliance on dashboards")]

    def __str__(self) -> str:
        return f"{self.metric} on {self.target_type_id}:{self.target_id} due {self.due_at:%Y-%m-%d %H:%M}"


class ClockEvent(models.Model):
    class Kind(models.TextChoices):
        START = "start", "Started"
        PAUSE = "pause", "Paused"
        RESUME = "resume", "Resumed"
        WARN = "warn", "Warned"
        BREACH = "breach", "Breached"
        STOP = "stop", "Stopped"
        RETARGET = "retarget", "Policy changed"

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    # Set once the metric's handler (e-mail, escalation) has run, so a re-delivered task does nothing.
    handled_at = models.DateTimeField(null=True, blank=True)
    # When a warn or breach event was last handed to a worker; the sweep hands it out again only when that is
    # long ago and it is still unhandled, so a queue that is merely slow is not flooded with copies.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["clock", "at"], name="clockevent_clock_at"),
            # The sweep's backstop: warn and breach events whose handler has not run.
            models.Index(
                fields=["dispatched_at"],
                name="clockevent_undispatched",
                condition=Q(handled_at__isnull=True, kind__in=["warn", "breach"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"
