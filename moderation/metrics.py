"""Moderation figures for the dashboard, the reports and the figures page: every one aggregated in the database.

Periods are half-open, [start, end), on the instant named in each docstring. The reports call these by name:

- flags_by_reason_and_source(start, end)   flags raised, by reason and source (user, automatic)
- cases_by_reason_and_source(start, end)   cases opened (first flag), by their reason and source
- decided_within_target(start, end)        clocks due in the period: decided within 12 h ÷ all due (target 100 %)
- time_to_decision(start, end)             decisions taken in the period: count, mean, median and p90 in seconds
- actions_by_type(start, end)              decisions taken in the period, by action
- automatic_precision(start, end)          automatic cases decided in the period: upheld ÷ decided
- recurrence_rate(start, end)              removals in the period: those whose content came back ÷ removals (< 0.5 %)
- appeal_stats(start, end)                 appeals filed in the period, decided, reversed, pending
- moderation_tile(now)                     the dashboard tile: quarter-to-date compliance, open, at risk, breached
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from saypro.figures.targets import target_for
from saypro.ml.models import TextModel
from saypro.sla import selectors as sla_selectors

from .models import ACTION_DONE, REMOVING_ACTIONS, Action, Appeal, Case, Decision, Flag, Reason, Source
from .spam import MODEL_NAME

METRIC = "moderation.decision"


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class AppealStats:
    filed: int
    decided: int
    reversed: int
    pending: int

    @property
    def reversal_rate(self) -> float | None:
        """Reversed ÷ decided appeals."""
        return self.reversed / self.decided if self.decided else None


@dataclass(frozen=True)
class Tile:
    compliance: sla_selectors.Compliance
    open: int
    at_risk: int
    breached: int


def _by_reason_and_source(rows: Any) -> list[dict[str, Any]]:
    """Every (reason, source) pair, zeros included, in the order of the choices."""
    counts = {(row["reason"], row["source"]): row["count"] for row in rows}
    return [
        {
            "reason": reason.value,
            "reason_label": reason.label,
            "source": source.value,
            "count": counts.get((reason.value, source.value), 0),
        }
        for reason in Reason
        for source in Source
    ]


def flags_by_reason_and_source(*, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Flags created in [start, end): [{reason, reason_label, source, count}], every pair listed."""
    rows = (
        Flag.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("reason", "source")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return _by_reason_and_source(rows)


def cases_by_reason_and_source(*, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Cases first opened in [start, end), by the reason and source they carry now."""
    rows = (
        Case.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("reason", "source")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return _by_reason_and_source(rows)


def decided_within_target(*, start: datetime, end: datetime, now: datetime | None = None) -> sla_selectors.Compliance:
    """Decision clocks due in [start, end): achieved (decided within 12 h) and breached; `.rate` is compliance."""
    return sla_selectors.compliance(metric=METRIC, start=start, end=end, now=now)


def time_to_decision(*, start: datetime, end: datetime) -> sla_selectors.StopStats:
    """Decisions (clocks stopped) in [start, end): count, average, median and p90 of the time from first flag."""
    return sla_selectors.stop_time_stats(metric=METRIC, start=start, end=end)


def actions_by_type(*, start: datetime, end: datetime) -> dict[str, int]:
    """Decisions taken in [start, end) per action, every action listed."""
    rows = Decision.objects.filter(at__gte=start, at__lt=end).values("action").annotate(count=Count("pk")).order_by()
    counts = {row["action"]: row["count"] for row in rows}
    return {action.value: counts.get(action.value, 0) for action in Action}


def automatic_precision(*, start: datetime, end: datetime) -> Ratio:
    """Cases opened by automatic detection and decided in [start, end): upheld (not kept, not reversed) ÷ decided."""
    row = Decision.objects.filter(at__gte=start, at__lt=end, automatic=True).aggregate(
        decided=Count("pk"),
        upheld=Count("pk", filter=Q(action__in=REMOVING_ACTIONS, reversed_at__isnull=True)),
    )
    return Ratio(part=row["upheld"], whole=row["decided"])


def recurrence_rate(*, start: datetime, end: datetime) -> Ratio:
    """Removals decided in [start, end) (not reversed): those whose content reappeared (a near-duplicate new
    submission) or was flagged again ÷ all of them. The target is under 0.5 %."""
    row = Decision.objects.filter(
        at__gte=start, at__lt=end, action__in=REMOVING_ACTIONS, reversed_at__isnull=True
    ).aggregate(removals=Count("pk"), recurred=Count("pk", filter=Q(recurred_at__isnull=False)))
    return Ratio(part=row["recurred"], whole=row["removals"])


def appeal_stats(*, start: datetime, end: datetime) -> AppealStats:
    """Appeals filed in [start, end): how many, how many decided (and reversed) so far, how many pending."""
    row = Appeal.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        filed=Count("pk"),
        decided=Count("pk", filter=~Q(status=Appeal.Status.PENDING)),
        reversed=Count("pk", filter=Q(status=Appeal.Status.REVERSED)),
        pending=Count("pk", filter=Q(status=Appeal.Status.PENDING)),
    )
    return AppealStats(**row)


def quarter_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(month=3 * ((local.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def moderation_tile(*, now: datetime | None = None) -> Tile:
    """The dashboard tile: compliance of clocks due this quarter so far, and the live queue."""
    now = now or timezone.now()
    counts = sla_selectors.queue_counts(metric=METRIC, now=now)
    return Tile(
        compliance=decided_within_target(start=quarter_start(now), end=now, now=now),
        open=counts.open,
        at_risk=counts.at_risk,
        breached=counts.breached,
    )


def moderation_summary(*, start: datetime, end: datetime, now: datetime | None = None) -> dict[str, Any]:
    """Every figure above for one period, as the figures page shows them."""
    flags = flags_by_reason_and_source(start=start, end=end)
    by_reason: dict[str, dict[str, Any]] = {}
    for row in flags:
        item = by_reason.setdefault(row["reason"], {"label": row["reason_label"], "user": 0, "automatic": 0})
        item[row["source"]] = row["count"]
    actions = actions_by_type(start=start, end=end)
    # The target in force for the period, as a share like the rate it is compared with.
    recurrence_target = target_for("moderation.recurrence_rate", timezone.localdate(start))
    return {
        "flags_by_reason": list(by_reason.values()),
        "flags_total": sum(row["count"] for row in flags),
        "cases": cases_by_reason_and_source(start=start, end=end),
        "compliance": decided_within_target(start=start, end=end, now=now),
        "time_to_decision": time_to_decision(start=start, end=end),
        "actions": [(ACTION_DONE[Action(action)], count) for action, count in actions.items()],
        "actions_total": sum(actions.values()),
        "precision": automatic_precision(start=start, end=end),
        "recurrence": recurrence_rate(start=start, end=end),
        "recurrence_target": None if recurrence_target is None else recurrence_target / 100,
        "appeals": appeal_stats(start=start, end=end),
    }


def decisions_by_day(*, start: datetime, end: datetime) -> list[tuple[date, int, int, float | None]]:
    """Per local day of the deadline: (day, within 12 h, late, rate), for the trend chart."""
    return sla_selectors.compliance_series(metric=METRIC, start=start, end=end, tz=timezone.get_current_timezone())


def spam_model_summary() -> TextModel | None:
    """The active spam classifier (its version, size and cross-validated quality), or None: rules only."""
    return TextModel.objects.filter(name=MODEL_NAME, is_active=True).defer("blob").first()
