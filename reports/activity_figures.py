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

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from accounts import metrics
from accounts.figures import ACCOUNTS_DOC, ENGAGEMENT
from accounts.figures.registrations import active_share_of
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
    figure_spec,
    shared,
)
from saypro.localtime import local_midnight, local_tz

from .rollups import Reader, Values, reader_shared, source_of
from .sources import (
    ACTIVITY_COHORTS,
    ACTIVITY_JOINED,
    ACTIVITY_RETURNS,
    FIRST,
    MAU_DAYS,
    PROBLEM_RETURNS,
    RETURN_DAYS,
    SIGN_IN_RETURNS,
    WAU_DAYS,
)

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


# How far before a read's first day to read as well: the period before (a month or a quarter of up to three days
# more) and its own lead (the trailing 30 days of MAU, or churn's period before), so that the figures of the
# period before find their days in the first read. At most a year, whatever the custom period.
LEAD_DAYS = MAU_DAYS + 3
WIDEST_READ = timedelta(days=2 * (RETURN_DAYS + 1))


def returns(now: datetime, first: date, end: date, region: str | None, metric: str = ACTIVITY_RETURNS) -> Returns:
    """The rollup's days [first, end) of one returns metric, for all users or one region. Inside a shared_reads
    scope a page reads each metric and region once where it can: the first read also takes the days before
    (twice the span and LEAD_DAYS), and a later read inside the days already read takes them from there."""
    dimension = f"region:{region.lower()}" if region else ""
    read_so_far: list[tuple[date, date, Returns]] = shared((metric, now, dimension, "reads"), list)
    for read_first, read_end, rows in read_so_far:
        if read_first <= first and end <= read_end:
            return rows
    wide_first = first - min(2 * (end - first) + timedelta(days=LEAD_DAYS), WIDEST_READ)
    daily = reader_shared(now).daily(metric, wide_first, end, dimension=dimension)
    rows = Returns({day: _over(values) for day, values in daily.items()})
    read_so_far.append((wide_first, end, rows))
    return rows


def distinct_users(span: Span, metric: str) -> float | None:
    """The distinct users of a returns metric in the instants [span.start, span.end), for the span's region; None
    for spans longer than the rollup's gaps reach. Whole local days come from the rollup; where the span ends
    inside a day before now (the period before a running one), that day's part is computed on the spot."""
    first, last = local_days(span.start, span.end)
    if (last - first).days > RETURN_DAYS + 1:
        return None
    rows = returns(span.now, first, last, _region(span), metric)
    cut = last - timedelta(days=1)
    midnight = local_midnight(cut)
    if span.start <= midnight < span.end < span.now and span.end != local_midnight(last):
        # The span ends inside its last day: that day counts the users up to span.end, not all day.
        source = source_of(metric)
        region = _region(span)
        dimension = f"region:{region.lower()}" if region else ""
        part = Returns({})
        for _, row_dimension, day, values in source.compute(
            midnight, span.end, local_tz(), span.now, frozenset({metric})
        ):
            if row_dimension == dimension:
                part.days[day] = _over(values)
        return rows.distinct(first, cut) + part.distinct(first, last)
    return rows.distinct(first, last)


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


def active_share(span: Span) -> Measure:
    """accounts.figures' active-user share, its signed-in users from the sign-in returns rollup."""
    signed_in = distinct_users(span, SIGN_IN_RETURNS)
    if signed_in is None:
        return _declared["accounts.active_share"](span)
    return active_share_of(span, round(signed_in))


def login_problem_users(span: Span) -> Measure:
    """accounts.figures' users facing sign-in problems, from the problem returns rollup."""
    n = distinct_users(span, PROBLEM_RETURNS)
    if n is None:
        return _declared["account_issues.login_problem_users"](span)
    return Measure(value=float(round(n)), n=round(n))


# The queries the accounts app declares these figures with, over the raw events: for spans longer than the
# rollup's gaps reach.
_declared: dict[str, Query] = {}
ROLLUP_QUERIES: dict[str, Query] = {
    "accounts.active_share": active_share,
    "account_issues.login_problem_users": login_problem_users,
}


ACTIVE = " Active: a sign-in, a profile or password change, a message, a listing or a transaction on the day."
ACTIVE_BEFORE = "users active in the period of the same length just before it"


def register() -> None:
    for key, query in ROLLUP_QUERIES.items():
        spec = figure_spec(key)
        if spec.query is not query:
            _declared[key] = spec.query
            figure_register(replace(spec, query=query))
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
