"""The rollup sources of the SLA kernel and of registrations; other areas' sources live beside their sections.

Every figure is a count or a sum per local day, so any period adds up from its days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from django.db.models import CharField, Count, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from accounts.models import Registration, RegistrationStatus
from saypro.sla.models import Clock, ClockState, Policy
from saypro.sla.promises import promises
from saypro.sla.selectors import ACHIEVED, _breached

from .rollups import Row, Source, count, grouped_counts, source_register

SLA_DUE = "sla.due"
SLA_STOPPED = "sla.stopped"
SLA_STARTED = "sla.started"
REG_STARTED = "registrations.started"
REG_DECIDED = "registrations.decided"


def sla_metrics() -> list[str]:
    """Every metric with a promise or a policy: the kernel measures them all alike."""
    return sorted({p.metric for p in promises()} | set(Policy.objects.values_list("metric", flat=True).distinct()))


def _sla_compute(start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]) -> Iterable[Row]:
    rows: list[Row] = []
    # One metric at a time, so each query runs on the (metric, …) indexes.
    for metric in sla_metrics():
        clocks = Clock.objects.filter(metric=metric)
        label = metric_value(metric)
        families: dict[str, tuple[QuerySet[Clock], str, dict[str, Any]]] = {
            SLA_DUE: (
                clocks,
                "due_at",
                {"achieved": Count("pk", filter=ACHIEVED), "breached": Count("pk", filter=_breached(now))},
            ),
            SLA_STOPPED: (
                clocks.filter(state=ClockState.STOPPED, elapsed_seconds__isnull=False),
                "stopped_at",
                {"stopped": Count("pk"), "met": count(met=True), "seconds": Sum("elapsed_seconds")},
            ),
            SLA_STARTED: (clocks, "started_at", {"started": Count("pk")}),
        }
        for family, (queryset, day_field, values) in families.items():
            if family not in wanted:
                continue
            dimensions: dict[str, Any] = {"metric": label}
            if family != SLA_DUE:
                # Arrivals and decisions by hour of day: the staffing recommendations compare them.
                dimensions[f"{metric}@hour"] = ExtractHour(day_field, tzinfo=tz)
            rows += grouped_counts(
                metric=family,
                queryset=queryset,
                day_field=day_field,
                values=values,
                dimensions=dimensions,
                start=start,
                end=end,
                tz=tz,
                total=False,
            )
    return rows


def metric_value(metric: str) -> Value:
    return Value(metric, output_field=CharField())


def _sla_first_at() -> datetime | None:
    return Clock.objects.aggregate(first=Min("started_at"))["first"]


def _registrations_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    common: dict[str, Any] = {"start": start, "end": end, "tz": tz}
    rows: list[Row] = []
    if REG_STARTED in wanted:
        rows += grouped_counts(
            metric=REG_STARTED,
            queryset=Registration.objects.all(),
            day_field="started_at",
            values={
                "started": Count("pk"),
                "email_verified": count(email_verified_at__isnull=False),
                "phone_verified": count(phone_verified_at__isnull=False),
                "profile_completed": count(profile_completed_at__isnull=False),
                "submitted": count(submitted_at__isnull=False),
                "approved": count(status=RegistrationStatus.APPROVED),
                "rejected": count(status=RegistrationStatus.REJECTED),
            },
            dimensions={
                "country": "user__country",
                "region": "user__region",
                "age": "user__age_band",
                "device": "device_type",
                "campaign": "campaign",
                "hour": ExtractHour("started_at", tzinfo=tz),
                "weekday": ExtractIsoWeekDay("started_at", tzinfo=tz),
            },
            **common,
        )
    if REG_DECIDED in wanted:
        rows += grouped_counts(
            metric=REG_DECIDED,
            queryset=Registration.objects.filter(decided_at__isnull=False),
            day_field="decided_at",
            values={
                "approved": count(status=RegistrationStatus.APPROVED),
                "rejected": count(status=RegistrationStatus.REJECTED),
                "auto_approved": count(status=RegistrationStatus.APPROVED, auto_approved=True),
                "delayed": Count("pk", filter=~Q(delay_cause="")),
            },
            dimensions={"cause": "delay_cause"},
            **common,
        )
    return rows


def _registrations_first_at() -> datetime | None:
    return Registration.objects.aggregate(first=Min("started_at"))["first"]


def register() -> None:
    source_register(
        Source(
            name="sla",
            metrics={
                SLA_DUE: ("achieved", "breached"),
                SLA_STOPPED: ("stopped", "met", "seconds"),
                SLA_STARTED: ("started",),
            },
            compute=_sla_compute,
            first_at=_sla_first_at,
        )
    )
    source_register(
        Source(
            name="registrations",
            metrics={
                REG_STARTED: (
                    "started",
                    "email_verified",
                    "phone_verified",
                    "profile_completed",
                    "submitted",
                    "approved",
                    "rejected",
                ),
                REG_DECIDED: ("approved", "rejected", "auto_approved", "delayed"),
            },
            compute=_registrations_compute,
            first_at=_registrations_first_at,
        )
    )
