"""The moderation figures and their targets (document 003: monitor and moderate 100 % of flagged content within
12 hours; under 0.5 % recurrence of flagged posts).

A flagged object is placed in the period it was first flagged in (its case opened) and counted as it stands now;
cases still inside their 12 h are pending.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from saypro.figures.registry import (
    DOWN,
    PERCENT,
    UP,
    FigureSpec,
    Measure,
    Span,
    TargetSpec,
    figure_register,
    target_register,
)
from saypro.sla.selectors import clock_outcomes

from .metrics import METRIC
from .models import Case, Decision

DOC = "003 Classified User Support and Help Management"
AREA = "moderation"
PLACED_BY = "the day the content was first flagged"


def _flagged(span: Span) -> QuerySet[Case]:
    cases = Case.objects.filter(created_at__gte=span.start, created_at__lt=span.end)
    if span.filters.get("reason"):
        cases = cases.filter(reason=span.filters["reason"])
    return cases


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def decided_within_12h(span: Span) -> Measure:
    outcomes = clock_outcomes(metric=METRIC, model=Case, ids=_flagged(span).values("pk"), now=span.now)
    return Measure(
        value=_share(outcomes.met, outcomes.decided),
        n=outcomes.decided,
        pending=outcomes.pending,
        parts={"met": outcomes.met, "missed": outcomes.missed},
    )


def recurrence_rate(span: Span) -> Measure:
    """Flagged posts that came back after removal (a near-duplicate submission or a new flag on the same object)
    ÷ flagged posts."""
    came_back = Decision.objects.filter(case=OuterRef("pk"), recurred_at__isnull=False)
    row = (
        _flagged(span)
        .annotate(came_back=Exists(came_back))
        .aggregate(flagged=Count("pk"), recurred=Count("pk", filter=Q(came_back=True)))
    )
    return Measure(value=_share(row["recurred"], row["flagged"]), n=row["flagged"], parts={"recurred": row["recurred"]})


def register() -> None:
    target_register(
        TargetSpec("sla.moderation.decision", "Flagged content decided within 12 h", PERCENT, UP, DOC, 0, 100)
    )
    target_register(
        TargetSpec("moderation.recurrence_rate", "Recurrence of flagged posts", PERCENT, DOWN, DOC, 0, 100, strict=True)
    )
    figure_register(
        FigureSpec(
            key="moderation.decided_12h",
            label="Flagged content decided within 12 h",
            unit=PERCENT,
            area=AREA,
            definition="Flagged objects decided within 12 hours of the first flag ÷ those decided late or still "
            "undecided past 12 hours.",
            population="objects (listings, messages, profiles) first flagged in the period",
            placed_by=PLACED_BY,
            direction=UP,
            query=decided_within_12h,
            source=DOC,
            target_key="sla.moderation.decision",
            dimensions=("reason",),
            order=10,
        )
    )
    figure_register(
        FigureSpec(
            key="moderation.recurrence_rate",
            label="Recurrence of flagged posts",
            unit=PERCENT,
            area=AREA,
            definition="Flagged posts whose content came back after removal (a near-duplicate new submission or a "
            "new flag on the same object) ÷ flagged posts.",
            population="objects first flagged in the period",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=recurrence_rate,
            source=DOC,
            target_key="moderation.recurrence_rate",
            dimensions=("reason",),
            order=20,
        )
    )
