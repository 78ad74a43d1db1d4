"""Daily rollups: named sums per metric, dimension and local day, refreshed by a periodic task.

A *source* computes the rows of its metrics for a range of instants with GROUP BY queries (never row by row).
`rollups_refresh` stores what sources compute: by default the recent days again (late changes included) plus
any day since the last refresh; with a range, it rebuilds that range. Readers get the stored days and, for the
days a refresh has not reached yet (today, or everything before the first refresh), the same numbers computed
on the spot by the same source: a figure never depends on whether the task has run.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from saypro import periods
from saypro.figures.registry import shared
from saypro.localtime import local_midnight, local_tz

from .models import DailyRollup, RollupCoverage

Values = dict[str, float]
# (metric, dimension, day, values)
Row = tuple[str, str, date, Values]
# compute(start, end, tz, now, metrics) -> rows of those of its metrics for the local days in [start, end)
Compute = Callable[[datetime, datetime, tzinfo, datetime, frozenset[str]], Iterable[Row]]

BATCH_DAYS = 31


@dataclass(frozen=True)
class Source:
    name: str
    # metric -> the names of its values
    metrics: Mapping[str, tuple[str, ...]]
    compute: Compute
    # The earliest instant with data, where a first refresh starts; None when there is none yet.
    first_at: Callable[[], datetime | None]
    # How many days after its day a row can still change (a survey answered days after it was sent): each
    # refresh recomputes at least that many recent days, however few REPORTS_ROLLUP_RECENT_DAYS asks for.
    settle_days: int = 0


_sources: dict[str, Source] = {}


def source_register(source: Source) -> None:
    _sources[source.name] = source


def sources() -> list[Source]:
    return list(_sources.values())


def source_of(metric: str) -> Source:
    for source in _sources.values():
        if metric in source.metrics:
            return source
    raise KeyError(f"No rollup source computes {metric!r}.")


# --- Helpers for sources ---------------------------------------------------------------------------------------


def grouped_counts(
    *,
    metric: str,
    queryset: models.QuerySet[Any],
    day_field: str,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    values: Mapping[str, Any],
    dimensions: Mapping[str, str | models.Expression] | None = None,
    total: bool = True,
) -> list[Row]:
    """One GROUP BY per dimension (and one for the total): the aggregates in `values` per local day.

    `dimensions` maps a prefix to a field path or an expression, e.g. {"country": "user__country"} gives rows
    with the dimension "country:ZA". A blank value becomes "country:" (not given).
    """
    base = queryset.filter(**{f"{day_field}__gte": start, f"{day_field}__lt": end}).annotate(
        rollup_day=TruncDate(day_field, tzinfo=tz)
    )
    groups: list[tuple[str, str | models.Expression]] = [("", "")] if total else []
    fields: list[tuple[str, str]] = []
    for index, (prefix, field) in enumerate([*groups, *(dimensions or {}).items()]):
        if isinstance(field, models.Expression):
            base = base.annotate(**{f"rollup_dimension_{index}": field})
            field = f"rollup_dimension_{index}"
        fields.append((prefix, field))
    if end - start <= SHORT_RANGE:
        return _grouped_together(metric, base, fields, values)
    rows: list[Row] = []
    for prefix, field in fields:
        keys = ["rollup_day", field] if field else ["rollup_day"]
        for row in base.values(*keys).annotate(**values).order_by():
            dimension = f"{prefix}:{'' if row[field] is None else row[field]}" if field else ""
            rows.append((metric, dimension, row["rollup_day"], {name: float(row[name] or 0) for name in values}))
    return rows


# A range this short (the part of today a reader computes on the spot) holds few rows: one GROUP BY over every
# dimension together, added up per dimension here, is one query where a GROUP BY per dimension is several. Exact
# because every value a source counts is a count or a sum.
SHORT_RANGE = timedelta(days=2)


def _grouped_together(
    metric: str, base: models.QuerySet[Any], fields: list[tuple[str, str]], values: Mapping[str, Any]
) -> list[Row]:
    columns = [field for _, field in fields if field]
    summed: dict[tuple[str, date], Values] = {}
    for row in base.values("rollup_day", *columns).annotate(**values).order_by():
        for prefix, field in fields:
            dimension = f"{prefix}:{'' if row[field] is None else row[field]}" if field else ""
            bucket = summed.setdefault((dimension, row["rollup_day"]), dict.fromkeys(values, 0.0))
            for name in values:
                bucket[name] += float(row[name] or 0)
    return [(metric, dimension, day, bucket) for (dimension, day), bucket in summed.items()]


def count(**filters: Any) -> Count:
    return Count("pk", filter=models.Q(**filters)) if filters else Count("pk")


# --- Refresh ---------------------------------------------------------------------------------------------------


def _chunks(first: date, last: date) -> Iterable[tuple[date, date]]:
    day = first
    while day <= last:
        chunk_last = min(last, day + timedelta(days=BATCH_DAYS - 1))
        yield day, chunk_last
        day = chunk_last + timedelta(days=1)


def _store(source: Source, first: date, last: date, now: datetime) -> int:
    rows = list(
        source.compute(
            local_midnight(first),
            local_midnight(last + timedelta(days=1)),
            local_tz(),
            now,
            frozenset(source.metrics),
        )
    )
    with transaction.atomic():
        DailyRollup.objects.filter(metric__in=list(source.metrics), day__gte=first, day__lte=last).delete()
        DailyRollup.objects.bulk_create(
            [DailyRollup(metric=m, dimension=d, day=day, values=v) for m, d, day, v in rows], batch_size=2000
        )
    return len(rows)


def refresh_source(
    source: Source, *, first: date | None = None, last: date | None = None, now: datetime | None = None
) -> int:
    """Store the rows of one source for complete days; returns how many rows were written."""
    now = now or timezone.now()
    yesterday = periods.today(now) - timedelta(days=1)
    coverage = RollupCoverage.objects.filter(source=source.name).first()
    if first is None:
        recent = yesterday - timedelta(days=max(settings.REPORTS_ROLLUP_RECENT_DAYS, source.settle_days) - 1)
        if coverage is not None:
            first = min(coverage.last_day + timedelta(days=1), recent)
        else:
            earliest = source.first_at()
            first = periods.today(earliest) if earliest else yesterday
    last = min(last or yesterday, yesterday)
    if coverage is not None:
        # Coverage stays one unbroken range of days, so that readers can trust every day inside it.
        if first > coverage.last_day + timedelta(days=1):
            first = coverage.last_day + timedelta(days=1)
        if last < coverage.first_day - timedelta(days=1):
            last = coverage.first_day - timedelta(days=1)
    if first > last:
        return 0
    started = time.monotonic()
    written = sum(_store(source, chunk_first, chunk_last, now) for chunk_first, chunk_last in _chunks(first, last))
    RollupCoverage.objects.update_or_create(
        source=source.name,
        defaults={
            "first_day": min(first, coverage.first_day) if coverage else first,
            "last_day": max(last, coverage.last_day) if coverage else last,
            "refreshed_at": now,
            "seconds": time.monotonic() - started,
        },
    )
    return written


def rollups_refresh(
    *,
    first: date | None = None,
    last: date | None = None,
    now: datetime | None = None,
    names: Iterable[str] | None = None,
) -> dict[str, int]:
    wanted = set(names) if names is not None else None
    return {
        source.name: refresh_source(source, first=first, last=last, now=now)
        for source in sources()
        if wanted is None or source.name in wanted
    }


# --- Reading ---------------------------------------------------------------------------------------------------


class Reader:
    """Reads rollups as of one instant.

    The days after a source's coverage (today; or every day, before the first refresh) are computed on the spot,
    once per reader and metric, as one window from the first uncovered day to now; each read takes its days
    from that window.
    """

    def __init__(self, now: datetime | None = None):
        self.now = now or timezone.now()
        self._starts: dict[str, date] = {}
        self._coverage_read = False
        self._live: dict[str, list[Row]] = {}
        self._daily: dict[tuple[str, date, date, str], dict[date, Values]] = {}
        self._by_dimension: dict[tuple[str, str, date, date], dict[str, Values]] = {}

    def _live_start(self, source: Source) -> date:
        # Once per reader and source: every read of the source splits its days at the same point.
        if not self._coverage_read:
            # Every source's coverage in one read: a page reads several sources.
            self._starts.update(
                (name, last_day + timedelta(days=1))
                for name, last_day in RollupCoverage.objects.values_list("source", "last_day")
            )
            self._coverage_read = True
        if source.name not in self._starts:
            earliest = source.first_at()
            self._starts[source.name] = periods.today(earliest) if earliest else periods.today(self.now)
        return self._starts[source.name]

    def _split(
        self, source: Source, first: date, end: date
    ) -> tuple[tuple[date, date] | None, tuple[date, date] | None]:
        """The stored part of [first, end), and the part after the coverage to compute on the spot."""
        after = self._live_start(source)
        stored = (first, min(end, after)) if first < min(end, after) else None
        live = (max(first, after), end) if max(first, after) < end else None
        return stored, live

    def _live_rows(self, source: Source, metric: str, first: date, end: date) -> list[Row]:
        if metric not in self._live:
            start_at = local_midnight(self._live_start(source))
            self._live[metric] = (
                list(source.compute(start_at, self.now, local_tz(), self.now, frozenset({metric})))
                if start_at < self.now
                else []
            )
        return [row for row in self._live[metric] if first <= row[2] < end]

    def daily(self, metric: str, first: date, end: date, *, dimension: str = "") -> dict[date, Values]:
        """The values of one metric and dimension for each local day in [first, end) that has any; read once per
        reader (a page's sections ask for the same days more than once)."""
        key = (metric, first, end, dimension)
        if key not in self._daily:
            self._daily[key] = self.daily_by(metric, first, end, dimensions=[dimension])[dimension]
        return {day: dict(values) for day, values in self._daily[key].items()}

    def daily_by(
        self, metric: str, first: date, end: date, *, dimensions: Sequence[str]
    ) -> dict[str, dict[date, Values]]:
        """`daily` for several dimensions of one metric, in one read of the stored days: what `daily` gives for
        each dimension, keyed by it."""
        source = source_of(metric)
        stored, live = self._split(source, first, end)
        out: dict[str, dict[date, Values]] = {dimension: {} for dimension in dimensions}
        if stored:
            for dimension, day, values in DailyRollup.objects.filter(
                metric=metric, dimension__in=list(dimensions), day__gte=stored[0], day__lt=stored[1]
            ).values_list("dimension", "day", "values"):
                out[dimension][day] = {key: float(value) for key, value in values.items()}
        if live:
            for _, row_dimension, day, values in self._live_rows(source, metric, *live):
                if row_dimension in out:
                    out[row_dimension][day] = values
        return out

    def totals(self, metric: str, first: date, end: date, *, dimension: str = "") -> Values:
        """The values of one metric and dimension added up over [first, end)."""
        return self.totals_each(metric, [(first, end)], dimension=dimension)[0]

    def totals_each(self, metric: str, spans: Sequence[tuple[date, date]], *, dimension: str = "") -> list[Values]:
        """`totals` over each [first, end) of `spans` (a chart's days or weeks), from one read of the days they
        cover instead of one read per span."""
        if not spans:
            return []
        days = self.daily(metric, min(first for first, _ in spans), max(end for _, end in spans), dimension=dimension)
        out = []
        for first, end in spans:
            summed: Values = dict.fromkeys(source_of(metric).metrics[metric], 0.0)
            for day, values in days.items():
                if first <= day < end:
                    for key, value in values.items():
                        summed[key] = summed.get(key, 0.0) + value
            out.append(summed)
        return out

    def totals_until(self, metric: str, first: date, until: datetime, *, dimension: str = "") -> Values:
        """The values of one metric and dimension added up from the local day `first` to the instant `until`:
        the whole days as `totals` reads them, and the part of `until`'s day computed on the spot by the source
        (to compare a running period with the same stretch of the one before, to the minute)."""
        day = periods.today(until)
        summed = self.totals(metric, first, day, dimension=dimension)
        midnight = local_midnight(day)
        if until > midnight:
            source = source_of(metric)
            for _, row_dimension, _, values in source.compute(
                midnight, until, local_tz(), self.now, frozenset({metric})
            ):
                if row_dimension == dimension:
                    for key, value in values.items():
                        summed[key] = summed.get(key, 0.0) + value
        return summed

    def by_dimension(self, metric: str, prefix: str, first: date, end: date) -> dict[str, Values]:
        """Totals over [first, end) per value of one dimension ("country" → {"ZA": {...}, "NG": {...}}); read once
        per reader, like `daily` (two sections chart the sign-ups' devices)."""
        key = (metric, prefix, first, end)
        if key not in self._by_dimension:
            self._by_dimension[key] = self._by_dimension_read(metric, prefix, first, end)
        return {name: dict(values) for name, values in self._by_dimension[key].items()}

    def _by_dimension_read(self, metric: str, prefix: str, first: date, end: date) -> dict[str, Values]:
        """Every dimension's totals of the metric over [first, end) are read together (a section breaks sign-ups
        down by country, region, age and device), and kept for the other prefixes."""
        source = source_of(metric)
        keys = source.metrics[metric]
        stored, live = self._split(source, first, end)
        out: dict[str, dict[str, Values]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(keys, 0.0)))
        if stored:
            sums = {key: Sum(Cast(KT(f"values__{key}"), models.FloatField())) for key in keys}
            for row in (
                DailyRollup.objects.filter(metric=metric, day__gte=stored[0], day__lt=stored[1])
                .exclude(dimension="")
                .values("dimension")
                .annotate(**sums)
                .order_by()
            ):
                sums_row: dict[str, Any] = dict(row)
                name, _, value = sums_row["dimension"].partition(":")
                out[name][value] = {key: float(sums_row[key] or 0) for key in keys}
        if live:
            for _, dimension, _, values in self._live_rows(source, metric, *live):
                name, marked, value = dimension.partition(":")
                if marked:
                    bucket = out[name][value]
                    for key, number in values.items():
                        bucket[key] = bucket.get(key, 0.0) + number
        for name, totals in out.items():
            if name != prefix:
                self._by_dimension[(metric, name, first, end)] = dict(totals)
        return dict(out[prefix])

    def daily_by_dimension(self, metric: str, prefix: str, first: date, end: date) -> dict[date, dict[str, Values]]:
        """Per local day in [first, end), the values of each value of one dimension."""
        source = source_of(metric)
        stored, live = self._split(source, first, end)
        marker = f"{prefix}:"
        out: dict[date, dict[str, Values]] = defaultdict(dict)
        if stored:
            for day, dimension, values in DailyRollup.objects.filter(
                metric=metric, dimension__startswith=marker, day__gte=stored[0], day__lt=stored[1]
            ).values_list("day", "dimension", "values"):
                out[day][dimension[len(marker) :]] = {key: float(value) for key, value in values.items()}
        if live:
            for _, dimension, day, values in self._live_rows(source, metric, *live):
                if dimension.startswith(marker):
                    out[day][dimension[len(marker) :]] = values
        return dict(out)


def reader_shared(now: datetime, reader: Reader | None = None) -> Reader:
    """The reader of a shared_reads scope (saypro.figures): one per page or report, so that its figures read each
    metric's coverage and days once; `reader` offers the page's own."""
    return shared(("rollups.Reader", now), lambda: reader or Reader(now))
