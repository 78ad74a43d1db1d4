"""The moderation figures and their targets (document 003: monitor and moderate 100 % of flagged content within
12 hours, a 100 % response rate to reported content; under 0.5 % recurrence of flagged posts).

A flagged object is placed in the period it was first flagged in (its case opened) and counted as it stands now;
cases still inside their 12 h are pending. A flag itself (one report) is placed by the moment it was raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from saypro.figures.grouped import aggregate_by_span
from saypro.figures.registry import (
    COUNT,
    DOWN,
    HOURS,
    PERCENT,
    UP,
    FigureSpec,
    Measure,
    Query,
    Span,
    TargetSpec,
    figure_register,
    shared,
    target_register,
)
from saypro.sla.selectors import clock_outcomes, clock_stop_times

from .metrics import METRIC
from .models import REMOVING_ACTIONS, Appeal, Case, CaseStatus, Decision, Flag, Source

DOC = "003 Classified User Support and Help Management"
AREA = "moderation"
PLACED_BY = "the day the content was first flagged"


# Splits by the case's reason and by what was flagged (listing, message, profile, …).
DIMENSIONS = ("reason", "content_type")


def _flagged(span: Span) -> QuerySet[Case]:
    cases = Case.objects.filter(created_at__gte=span.start, created_at__lt=span.end)
    if span.filters.get("reason"):
        cases = cases.filter(reason=span.filters["reason"])
    if span.filters.get("content_type"):
        cases = cases.filter(kind=span.filters["content_type"])
    return cases


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


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


def _flagged_came_back(span: Span) -> QuerySet[Case]:
    came_back = Decision.objects.filter(case=OuterRef("pk"), recurred_at__isnull=False)
    return _flagged(span).annotate(came_back=Exists(came_back))


RECURRENCE = {"flagged": Count("pk"), "recurred": Count("pk", filter=Q(came_back=True))}


def recurrence_rate(span: Span) -> Measure:
    """Flagged posts that came back after removal (a near-duplicate submission or a new flag on the same object)
    ÷ flagged posts."""
    row = shared(("moderation.recurrence", *span.key()), lambda: _flagged_came_back(span).aggregate(**RECURRENCE))
    return _recurrence(row)


def recurrence_rate_many(spans: Sequence[Span]) -> list[Measure]:
    rows = aggregate_by_span(_flagged_came_back, "created_at", spans, RECURRENCE, "moderation.recurrence")
    return [_recurrence(row) for row in rows]


def _recurrence(row: dict[str, Any]) -> Measure:
    return Measure(value=_share(row["recurred"], row["flagged"]), n=row["flagged"], parts={"recurred": row["recurred"]})


def flags_raised(span: Span) -> Measure:
    """Flags raised in the span, by users and by automatic detection, one per report; split by reason and source
    in `parts` ("fraud/user": 3), every pair of the choices' that occurred."""
    flags = Flag.objects.filter(created_at__gte=span.start, created_at__lt=span.end)
    if span.filters.get("reason"):
        flags = flags.filter(reason=span.filters["reason"])
    if span.filters.get("content_type"):
        flags = flags.filter(case__kind=span.filters["content_type"])
    rows = flags.values("reason", "source").annotate(count=Count("pk")).order_by()
    parts = {f"{row['reason']}/{row['source']}": float(row["count"]) for row in rows}
    total = int(sum(parts.values()))
    return Measure(value=float(total), n=total, parts=parts)


def decisions_taken(span: Span) -> Measure:
    """Decisions on the objects first flagged in the span, one per round (a reopened object is decided again),
    by action in `parts`; the objects still undecided are pending."""
    cases = _flagged(span)
    rows = Decision.objects.filter(case__in=cases.values("pk")).values("action").annotate(count=Count("pk")).order_by()
    parts = {row["action"]: float(row["count"]) for row in rows}
    total = int(sum(parts.values()))
    pending = cases.filter(status=CaseStatus.OPEN).count()
    return Measure(value=float(total), n=total, pending=pending, parts=parts)


def _time_to_decision(fraction: float) -> Query:
    """A percentile of the time from first flag to decision over the decided objects; those still inside their
    12 h are pending, those undecided past it are named in the parts (no time yet, but already late)."""

    def query(span: Span) -> Measure:
        times = clock_stop_times(
            metric=METRIC, model=Case, ids=_flagged(span).values("pk"), now=span.now, fraction=fraction
        )
        return Measure(
            value=_hours(times.percentile), n=times.count, pending=times.pending, parts={"open_late": times.open_late}
        )

    return query


def automatic_precision(span: Span) -> Measure:
    """Decisions on objects that automatic detection flagged: upheld (content removed, not reversed on appeal) ÷
    decided; the automatic cases still undecided are pending. One query: the decisions joined to their cases,
    the cases counted once each."""
    automatic = Q(decisions__automatic=True)
    row = _flagged(span).aggregate(
        decided=Count("decisions", filter=automatic),
        upheld=Count(
            "decisions",
            filter=automatic & Q(decisions__action__in=REMOVING_ACTIONS, decisions__reversed_at__isnull=True),
        ),
        pending=Count("pk", filter=Q(status=CaseStatus.OPEN, source=Source.AUTOMATIC), distinct=True),
    )
    return Measure(
        value=_share(row["upheld"], row["decided"]),
        n=row["decided"],
        pending=row["pending"],
        parts={"upheld": row["upheld"]},
    )


def appeal_reversals(span: Span) -> Measure:
    """Appeals against decisions on objects first flagged in the span: reversed ÷ decided; pending undecided."""
    row = Appeal.objects.filter(case__in=_flagged(span).values("pk")).aggregate(
        decided=Count("pk", filter=~Q(status=Appeal.Status.PENDING)),
        reversed=Count("pk", filter=Q(status=Appeal.Status.REVERSED)),
        pending=Count("pk", filter=Q(status=Appeal.Status.PENDING)),
    )
    return Measure(
        value=_share(row["reversed"], row["decided"]),
        n=row["decided"],
        pending=row["pending"],
        parts={"reversed": row["reversed"]},
    )


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
            dimensions=DIMENSIONS,
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
            query_many=recurrence_rate_many,
            source=DOC,
            target_key="moderation.recurrence_rate",
            dimensions=DIMENSIONS,
            order=20,
        )
    )
    flagged = "objects (listings, messages, profiles) first flagged in the period"
    for key, label, definition, query, order in (
        (
            "moderation.median_hours",
            "Time from first flag to decision, median",
            "The median time from an object's first flag to the moderator's decision, in hours (nearest rank). "
            "Objects still undecided have no time yet: those inside their 12 h are pending.",
            _time_to_decision(0.5),
            30,
        ),
        (
            "moderation.p90_hours",
            "Time from first flag to decision, 90th percentile",
            "The time within which 90 % of the decided objects were decided after their first flag, in hours "
            "(nearest rank). Objects still undecided have no time yet: those inside their 12 h are pending.",
            _time_to_decision(0.9),
            31,
        ),
    ):
        figure_register(
            FigureSpec(
                key=key,
                label=label,
                unit=HOURS,
                area=AREA,
                definition=definition,
                population=flagged + ", decided",
                placed_by=PLACED_BY,
                direction=DOWN,
                query=query,
                source=DOC,
                dimensions=DIMENSIONS,
                order=order,
            )
        )
    figure_register(
        FigureSpec(
            key="moderation.flags",
            label="Flags raised (user reports and automatic detections)",
            unit=COUNT,
            area=AREA,
            definition="Reports of content raised in the period, one per flag: by users and by automatic "
            "detection, several flags on one object each counted.",
            population="flags raised in the period, on any object",
            placed_by="the moment the flag was raised",
            direction=DOWN,
            query=flags_raised,
            source=DOC,
            dimensions=DIMENSIONS,
            order=40,
        )
    )
    figure_register(
        FigureSpec(
            key="moderation.actions",
            label="Decisions on content first flagged in the period",
            unit=COUNT,
            area=AREA,
            definition="Moderators' decisions (keep, remove, remove and warn, suspend or ban the author) on the "
            "objects first flagged in the period, one per review round; objects still undecided are pending.",
            population=flagged,
            placed_by=PLACED_BY,
            direction=UP,
            query=decisions_taken,
            source=DOC,
            dimensions=DIMENSIONS,
            order=41,
        )
    )
    figure_register(
        FigureSpec(
            key="moderation.automatic_precision",
            label="Automatic-detection precision (cases upheld)",
            unit=PERCENT,
            area=AREA,
            definition="Decisions on objects flagged by automatic detection that upheld the flag (the content "
            "removed and not reversed on appeal) ÷ all decisions on such objects; those undecided are pending.",
            population=flagged + " by automatic detection, decided",
            placed_by=PLACED_BY,
            direction=UP,
            query=automatic_precision,
            source=DOC,
            dimensions=DIMENSIONS,
            order=50,
        )
    )
    figure_register(
        FigureSpec(
            key="moderation.appeal_reversals",
            label="Appeals that reversed the decision",
            unit=PERCENT,
            area=AREA,
            definition="Appeals against decisions on objects first flagged in the period that reversed the "
            "decision ÷ appeals decided; appeals still waiting are pending.",
            population="decided appeals against decisions on " + flagged,
            placed_by=PLACED_BY,
            direction=DOWN,
            query=appeal_reversals,
            source=DOC,
            dimensions=DIMENSIONS,
            order=60,
        )
    )
