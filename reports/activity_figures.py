"""The engagement figures that count distinct active users: daily, weekly and monthly active users, stickiness,
churn and retention (document 001's active users and retention), registered here because they read the rollups
of account activity, which belong to this app (accounts may not import reports).

DAU, WAU and MAU are averages over the local days of the span, a day without anyone active counting as 0: DAU the
distinct users active that day, WAU and MAU the distinct users over the trailing 7 and 30 days ending on it. Churn
and retention compare the users active in the span with those active in the span of the same length before it.

Each reads the activity-returns rollup (reports.sources): per local day, its active users by how many days before
each was last active, from which the distinct users over any span of days follow exactly. Each can be read for
one region, the region the user gave (any case).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accounts import metrics
from accounts.figures import ACCOUNTS_DOC, ENGAGEMENT
from accounts.metrics import local_days
from saypro.figures.registry import (
    COUNT,
    DOWN,
    PERCENT,
    UP,
    FigureSpec,
    Measure,
    Query,
    Span,
    figure_register,
    shared,
)

from .rollups import Reader, Values, reader_shared
from .sources import ACTIVITY_COHORTS, ACTIVITY_JOINED, ACTIVITY_RETURNS, FIRST, MAU_DAYS, RETURN_DAYS, WAU_DAYS

DIMENSIONS = ("region",)


def _over(values: Values) -> list[float]:
    """over[k]: the day's active users last active more than k days before it (over[0]: all of them)."""
    counts = [0.0] * (RETURN_DAYS + 2)
    for key, n in values.items():
        counts[RETURN_DAYS + 1 if key == FIRST else int(key)] += n
    over = [0.0] * (RETURN_DAYS + 1)
    running = counts[RETURN_DAYS + 1]
    for k in range(RETURN_DAYS, -1, -1):
        over[k] = running
        running += counts[k]
    return over


@dataclass(frozen=True)
class Returns:
    """The days of the activity-returns rollup for one dimension, as counts of users by gap."""

    days: dict[date, list[float]]

    def active(self, day: date) -> float:
        return self.days[day][0] if day in self.days else 0.0

    def distinct(self, first: date, end: date) -> float:
        """The distinct users active on the days [first, end): each counted on their first active day of it."""
        if (end - first).days > RETURN_DAYS + 1:
            raise ValueError(f"Distinct users over more than {RETURN_DAYS + 1} days are not in the rollup.")
        return sum(over[(day - first).days] for day, over in self.days.items() if first <= day < end)


def returns(now: datetime, first: date, end: date, region: str | None) -> Returns:
    """The rollup's days [first, end), for all users or one region; read once per page or report (shared)."""
    dimension = f"region:{region.lower()}" if region else ""

    def read() -> Returns:
        daily = reader_shared(now).daily(ACTIVITY_RETURNS, first, end, dimension=dimension)
        return Returns({day: _over(values) for day, values in daily.items()})

    return shared((ACTIVITY_RETURNS, now, first, end, dimension), read)


def retention_cohorts(reader: Reader, *, start: datetime, end: datetime, weeks: int) -> list[metrics.Cohort]:
    """accounts.metrics.retention_cohorts from the rollups: each cohort's size from the users who joined on each
    day of its week, its members active in week N and in week N or later from its activity returns."""
    first, last = local_days(start, end)
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    mondays = [first_monday + timedelta(weeks=n) for n in range(max(0, -(-(last - first_monday).days // 7)))]
    if not mondays:
        return []
    if (last - mondays[0]).days > RETURN_DAYS + 1:
        # Custom periods of more than six months: the rollup's gaps do not reach back far enough.
        return metrics.retention_cohorts(start=start, end=end, weeks=weeks)
    joined = reader.daily(ACTIVITY_JOINED, mondays[0], mondays[-1] + timedelta(days=7))
    dimensions = {monday: f"cohort:{monday.isoformat()}" for monday in mondays}
    activity = reader.daily_by(ACTIVITY_COHORTS, mondays[0], last, dimensions=list(dimensions.values()))
    cohorts: list[metrics.Cohort] = []
    for monday, dimension in dimensions.items():
        rows = Returns({day: _over(values) for day, values in activity[dimension].items()})
        size = sum(joined.get(monday + timedelta(days=n), {}).get("joined", 0.0) for n in range(7))
        # Weeks 0 … N that have begun before the period ends.
        span = min(weeks + 1, -(-(last - monday).days // 7))
        starts = [monday + timedelta(weeks=n) for n in range(span)]
        cohorts.append(
            metrics.Cohort(
                week=monday,
                size=round(size),
                returned=[round(rows.distinct(week, min(week + timedelta(days=7), last))) for week in starts],
                returned_or_later=[round(rows.distinct(week, last)) for week in starts],
            )
        )
    return cohorts


def _region(span: Span) -> str | None:
    return span.filters.get("region") or None


def _means(span: Span) -> tuple[dict[str, float], int]:
    """The mean of each of dau, wau and mau over the span's local days, and the number of days."""
    first, last = local_days(span.start, span.end)
    count = (last - first).days
    if not count:
        return dict.fromkeys(("dau", "wau", "mau"), 0.0), 0
    rows = returns(span.now, first - timedelta(days=MAU_DAYS - 1), last, _region(span))
    days = [first + timedelta(days=n) for n in range(count)]
    totals = {
        "dau": sum(rows.active(day) for day in days),
        "wau": sum(rows.distinct(day - timedelta(days=WAU_DAYS - 1), day + timedelta(days=1)) for day in days),
        "mau": sum(rows.distinct(day - timedelta(days=MAU_DAYS - 1), day + timedelta(days=1)) for day in days),
    }
    return {key: total / count for key, total in totals.items()}, count


def _average(key: str) -> Query:
    def query(span: Span) -> Measure:
        means, days = _means(span)
        return Measure(value=means[key] if days else None, n=days)

    return query


def stickiness(span: Span) -> Measure:
    means, days = _means(span)
    value = 100 * means["dau"] / means["mau"] if means["dau"] and means["mau"] else None
    return Measure(value=value, n=days, parts={"dau": means["dau"], "mau": means["mau"]})


def _churn(span: Span) -> metrics.Churn:
    """As accounts.metrics.churn over the raw activity days, from the rollup: the users active in both spans are
    those of each less those of the two together."""
    before, first = local_days(span.start - (span.end - span.start), span.start)
    _, last = local_days(span.start, span.end)
    if (last - before).days > RETURN_DAYS + 1:
        # Custom periods of more than three months: the rollup's gaps do not reach back far enough.
        return metrics.churn(start=span.start, end=span.end, region=_region(span))
    rows = returns(span.now, before, last, _region(span))
    previous, current, both = rows.distinct(before, first), rows.distinct(first, last), rows.distinct(before, last)
    previous_active, retained = round(previous), round(previous + current - both)
    churned = previous_active - retained
    return metrics.Churn(previous_active, retained, churned, churned / previous_active if previous_active else None)


def churn(span: Span) -> Measure:
    row = _churn(span)
    return Measure(
        value=None if row.rate is None else 100 * row.rate,
        n=row.previous_active,
        parts={"churned": row.churned, "previous_active": row.previous_active},
    )


def retention(span: Span) -> Measure:
    row = _churn(span)
    return Measure(
        value=100 * row.retained / row.previous_active if row.previous_active else None,
        n=row.previous_active,
        parts={"retained": row.retained, "previous_active": row.previous_active},
    )


ACTIVE = " Active: a sign-in, a profile or password change, a message, a listing or a transaction on the day."
ACTIVE_BEFORE = "users active in the period of the same length just before it"


def register() -> None:
    days = "the local days of the period (to date while it runs), a day without activity counting as 0"
    averaged = ACTIVE + " n is the number of days averaged."
    for key, label, definition, order in (
        ("engagement.dau", "Daily active users (average)", "Distinct users active on each day, averaged.", 30),
        (
            "engagement.wau",
            "Weekly active users (trailing 7 days, average)",
            "Distinct users active over the 7 days ending on each day, averaged.",
            31,
        ),
        (
            "engagement.mau",
            "Monthly active users (trailing 30 days, average)",
            "Distinct users active over the 30 days ending on each day, averaged.",
            32,
        ),
    ):
        figure_register(
            FigureSpec(
                key=key,
                label=label,
                unit=COUNT,
                area=ENGAGEMENT,
                definition=definition + averaged,
                population=days,
                placed_by="the local day of the activity",
                direction=UP,
                query=_average(key.removeprefix("engagement.")),
                source=ACCOUNTS_DOC,
                dimensions=DIMENSIONS,
                order=order,
            )
        )
    figure_register(
        FigureSpec(
            key="engagement.stickiness",
            label="Stickiness (DAU ÷ MAU)",
            unit=PERCENT,
            area=ENGAGEMENT,
            definition="The average daily active users ÷ the average monthly active users: how many of a month's "
            "users come back on a given day." + averaged,
            population=days,
            placed_by="the local day of the activity",
            direction=UP,
            query=stickiness,
            source=ACCOUNTS_DOC,
            dimensions=DIMENSIONS,
            order=33,
        )
    )
    figure_register(
        FigureSpec(
            key="engagement.churn",
            label="Churn",
            unit=PERCENT,
            area=ENGAGEMENT,
            definition="Churn(P) = users active in P−1 and not in P ÷ users active in P−1, P−1 being the period of "
            "the same length just before P: users who stopped interacting. Active: any sign-in, profile or password "
            "change, message, listing or transaction on the day.",
            population=ACTIVE_BEFORE,
            placed_by="the days of activity",
            direction=DOWN,
            query=churn,
            source=ACCOUNTS_DOC,
            dimensions=DIMENSIONS,
            order=40,
        )
    )
    figure_register(
        FigureSpec(
            key="engagement.retention",
            label="Retention: active again after the period before",
            unit=PERCENT,
            area=ENGAGEMENT,
            definition="Users active in the period before (of the same length) who were active again in this one ÷ "
            "users active in the period before; 100 % less churn. The cohort tables follow each sign-up week.",
            population=ACTIVE_BEFORE,
            placed_by="the days of activity",
            direction=UP,
            query=retention,
            source=ACCOUNTS_DOC,
            dimensions=DIMENSIONS,
            order=41,
        )
    )
