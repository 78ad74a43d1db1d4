"""The registration section's volume and decision figures (documents 000 and 001): sign-ups started, accounts
approved, the automatic share of approvals, sign-up to approval conversion and the median time to a decision.

Unlike the 48-hour figures, which place a registration by its submission, these place it by the date of the
step they count: a sign-up by the day it started, an approval by the day it was decided, a decision time by the
day the review clock stopped. Each can be read for one region, the region the applicant gave (any case).
"""

from __future__ import annotations

import math
from typing import cast

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet

from saypro.figures.registry import COUNT, DOWN, HOURS, PERCENT, UP, FigureSpec, Measure, Span, figure_register, shared
from saypro.sla.models import Clock, ClockState

from ..models import Registration
from .registrations import ACCOUNTS_DOC, APPROVED, AREA, DOC, METRIC

DIMENSIONS = ("region",)


def _in_region(queryset: QuerySet[Registration], span: Span) -> QuerySet[Registration]:
    region = span.filters.get("region")
    return queryset.filter(user__region__iexact=region) if region else queryset


def _started(span: Span) -> QuerySet[Registration]:
    return _in_region(Registration.objects.filter(started_at__gte=span.start, started_at__lt=span.end), span)


def _decided(span: Span) -> QuerySet[Registration]:
    return _in_region(Registration.objects.filter(decided_at__gte=span.start, decided_at__lt=span.end), span)


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _started_counts(span: Span) -> dict[str, int]:
    """The started sign-ups' counts, one aggregate shared by the figures reading them (shared_reads)."""
    return shared(
        ("registrations.started", *span.key()),
        lambda: _started(span).aggregate(n=Count("pk"), approved=Count("pk", filter=Q(status=APPROVED))),
    )


def _decided_counts(span: Span) -> dict[str, int]:
    return shared(
        ("registrations.decided", *span.key()),
        lambda: _decided(span).aggregate(
            approved=Count("pk", filter=Q(status=APPROVED)),
            automatic=Count("pk", filter=Q(status=APPROVED, auto_approved=True)),
        ),
    )


def started(span: Span) -> Measure:
    n = _started_counts(span)["n"]
    return Measure(value=float(n), n=n)


def approved(span: Span) -> Measure:
    n = _decided_counts(span)["approved"]
    return Measure(value=float(n), n=n)


def auto_approval_rate(span: Span) -> Measure:
    row = _decided_counts(span)
    return Measure(
        value=_share(row["automatic"], row["approved"]), n=row["approved"], parts={"automatic": row["automatic"]}
    )


def conversion(span: Span) -> Measure:
    """Sign-ups started in the period that have been approved since, over all sign-ups started in it: a sign-up
    started on a quarter's last day and approved the next is the quarter's."""
    row = _started_counts(span)
    return Measure(value=_share(row["approved"], row["n"]), n=row["n"], parts={"approved": row["approved"]})


def median_decision_hours(span: Span) -> Measure:
    """The nearest-rank median of the review clock's elapsed time (the team's time, waits on the applicant left
    out) over the clocks stopped in the period, read with ORDER BY … OFFSET so it stays in the database."""
    stopped = Clock.objects.filter(
        metric=METRIC,
        state=ClockState.STOPPED,
        stopped_at__gte=span.start,
        stopped_at__lt=span.end,
        elapsed_seconds__isnull=False,
    )
    if span.filters.get("region"):
        stopped = stopped.filter(
            target_type=ContentType.objects.get_for_model(Registration),
            target_id__in=_in_region(Registration.objects.all(), span).values("pk"),
        )
    n = stopped.count()
    if not n:
        return Measure(value=None, n=0)
    offset = max(0, min(n - 1, math.ceil(0.5 * n) - 1))
    # Never None: the clocks are filtered on elapsed_seconds being set.
    seconds = cast(float, stopped.order_by("elapsed_seconds").values_list("elapsed_seconds", flat=True)[offset])
    return Measure(value=seconds / 3600, n=n)


def register() -> None:
    for spec in (
        FigureSpec(
            key="registrations.started",
            label="Sign-ups started",
            unit=COUNT,
            definition="Sign-ups started: applicants who began registering (the first step of the sign-up), "
            "whatever became of them (001: new registrations in the period).",
            population="registrations started in the period",
            placed_by="the day the sign-up started",
            direction=UP,
            query=started,
            source=ACCOUNTS_DOC,
            order=25,
            area=AREA,
            dimensions=DIMENSIONS,
        ),
        FigureSpec(
            key="registrations.approved",
            label="New accounts approved (by decision date)",
            unit=COUNT,
            definition="Registrations approved in the period, by reviewers or automatically, whenever they were "
            "submitted (001: new user accounts created in the period).",
            population="registrations approved in the period",
            placed_by="the day of the approval",
            direction=UP,
            query=approved,
            source=ACCOUNTS_DOC,
            order=35,
            area=AREA,
            dimensions=DIMENSIONS,
        ),
        FigureSpec(
            key="registrations.auto_approval_rate",
            label="Automatic approval rate",
            unit=PERCENT,
            definition="Registrations approved automatically by screening (low risk, verified) ÷ registrations "
            "approved in the period; the rest were approved by a reviewer (000: streamlined approval).",
            population="registrations approved in the period",
            placed_by="the day of the approval",
            direction=UP,
            query=auto_approval_rate,
            source=DOC,
            order=36,
            area=AREA,
            dimensions=DIMENSIONS,
        ),
        FigureSpec(
            key="registrations.conversion",
            label="Sign-up to approval conversion",
            unit=PERCENT,
            definition="Sign-ups started in the period that completed the registration process and were "
            "approved ÷ sign-ups started in the period; the others abandoned it midway, were rejected or wait "
            "for a decision (001: conversion rates).",
            population="registrations started in the period",
            placed_by="the day the sign-up started",
            direction=UP,
            query=conversion,
            source=ACCOUNTS_DOC,
            order=37,
            area=AREA,
            dimensions=DIMENSIONS,
        ),
        FigureSpec(
            key="registrations.median_decision_hours",
            label="Median time to decision",
            unit=HOURS,
            definition="The median of the review clock's time from submission to decision (the team's time: "
            "waits on the applicant for more information are left out), over the decisions made in the period "
            "(000: review within 48 hours).",
            population="registrations decided in the period",
            placed_by="the day of the decision",
            direction=DOWN,
            query=median_decision_hours,
            source=DOC,
            order=75,
            area=AREA,
            dimensions=DIMENSIONS,
        ),
    ):
        figure_register(spec)
