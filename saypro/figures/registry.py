"""The figure registry: every figure the product shows, declared once by the app that owns its data.

A figure states what it counts (label, unit, the glossary's definition, the population, the date that places an
item in a period), which way is better, the target it is held to, the dimensions it can be split by, and the
query that computes it. `figure_read` gives a figure for a period (to date while the period runs), the same
elapsed span of the period before, the last four quarters and the periods before it, each with its sample size
and the target in force for that period: the dashboard, the area pages, the reports and the metrics API all read
figures here, so a figure has one definition and one target wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import pairwise
from typing import Any, Final, Literal, TypeVar

from saypro import periods
from saypro.periods import Period
from saypro.side_by_side import side_by_side

from .targets import TargetBook

# Units, as the reports print them (reports.document uses the same names).
PERCENT, COUNT, HOURS, MINUTES, SCORE, NPS = "percent", "count", "hours", "minutes", "score", "nps"
# Which way is better; AT: a share to stay close to (the category mix), judged by its difference, not met.
Direction = Literal["up", "down", "at"]
UP: Final = "up"
DOWN: Final = "down"
AT: Final = "at"


@dataclass(frozen=True)
class Span:
    """The instants a query counts over: [start, end), `end` being now for a period still running."""

    start: datetime
    end: datetime
    now: datetime
    # Dimension -> value, e.g. {"channel": "chat"}: only dimensions the figure declares.
    filters: Mapping[str, str] = field(default_factory=dict)

    def key(self) -> tuple[Hashable, ...]:
        """Everything a query's result depends on, for `shared`."""
        return (self.start, self.end, self.now, tuple(sorted(self.filters.items())))


@dataclass(frozen=True)
class Measure:
    """What a query returns: the value, the number of items it was computed from, and the items of the period
    that cannot count yet (still inside their deadline), shown as pending rather than dropped."""

    value: float | None
    n: int
    pending: int = 0
    # Named counts behind the value, for notes and drill-downs (e.g. {"met": 41, "missed": 2}).
    parts: Mapping[str, float] = field(default_factory=dict)


Query = Callable[[Span], Measure]
# The same query over many disjoint spans with the same filters and instant, in one read: a measure per span.
QueryMany = Callable[[Sequence[Span]], list[Measure]]


@dataclass(frozen=True)
class TargetSpec:
    key: str
    label: str
    unit: str
    direction: Direction
    # The document the default comes from, as the targets page cites it.
    source: str
    minimum: float
    maximum: float
    # "above 90 %", "under 3 %": the documents' strict comparisons.
    strict: bool = False

    def text(self, value: float) -> str:
        if self.direction == AT:
            return value_text(value, self.unit)
        word = {(UP, False): "≥", (UP, True): "above", (DOWN, False): "≤", (DOWN, True): "under"}[
            (self.direction, self.strict)
        ]
        return f"{word} {value_text(value, self.unit)}"

    def met(self, value: float, target: float) -> bool | None:
        if self.direction == AT:
            return None
        if self.direction == UP:
            return value > target if self.strict else value >= target
        return value < target if self.strict else value <= target


def value_text(value: float, unit: str) -> str:
    if unit == PERCENT:
        return f"{value:g} %"
    if unit == HOURS:
        return f"{value:g} h"
    if unit == MINUTES:
        return f"{value:g} min"
    if unit == COUNT:
        return f"{value:,.0f}"
    if unit == NPS:
        return f"{value:+.0f}"
    return f"{value:g}"


# A target that depends on the data (the quarter's message volume: the previous quarter's plus the growth band):
# (target, its text) for the period, the targets and the reading's filters; (None, "") where none applies.
TargetRule = Callable[[Period, TargetBook, Mapping[str, str]], tuple[float | None, str]]


@dataclass(frozen=True)
class FigureSpec:
    key: str
    label: str
    unit: str
    area: str
    # The glossary's text: what is counted, over which population, placed in a period by which date.
    definition: str
    population: str
    placed_by: str
    direction: Direction
    query: Query
    # The document the definition follows.
    source: str
    target_key: str = ""
    # A target of its own for some period kinds, e.g. {"week": "support.resolved_24h.weekly"}.
    kind_targets: Mapping[str, str] = field(default_factory=dict)
    dimensions: tuple[str, ...] = ()
    # Period kinds the figure is defined for (growth is quarter on quarter only); empty: every kind.
    kinds: tuple[str, ...] = ()
    target_rule: TargetRule | None = None
    # A band (low and high target keys): the value is judged below, within or above it.
    band: tuple[str, str] | None = None
    order: int = 100
    # For a figure shown period by period (a quarter's weeks): the query over all the periods in one read.
    query_many: QueryMany | None = None

    def target_key_for(self, kind: str) -> str:
        return self.kind_targets.get(kind, self.target_key)


_figures: dict[str, FigureSpec] = {}
_targets: dict[str, TargetSpec] = {}


def figure_register(spec: FigureSpec) -> None:
    """Register or replace (by key) one figure."""
    _figures[spec.key] = spec


def target_register(spec: TargetSpec) -> None:
    _targets[spec.key] = spec


def figure_specs(area: str | None = None) -> list[FigureSpec]:
    chosen = [f for f in _figures.values() if area is None or f.area == area]
    return sorted(chosen, key=lambda f: (f.area, f.order, f.key))


def figure_spec(key: str) -> FigureSpec:
    try:
        return _figures[key]
    except KeyError:
        raise KeyError(f"No figure is registered as {key!r}.") from None


def target_specs() -> list[TargetSpec]:
    return sorted(_targets.values(), key=lambda t: t.key)


def target_spec(key: str) -> TargetSpec | None:
    return _targets.get(key)


# --- Reading ---------------------------------------------------------------------------------------------------

T = TypeVar("T")
_shared: ContextVar[dict[Hashable, Future[Any]] | None] = ContextVar("figure_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within it, figures whose queries read the same rows (the engagement figures all read the same activity
    rollups, for this period and the one before) read them once: a page or a report reads its figures inside one.
    Nested scopes share the outer one."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared(key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, once per key inside a shared_reads scope (every time outside one). The key must name everything
    the result depends on (the rows' range, the filters, the instant read at). Threads sharing the scope (a
    report's sections built side by side) wait for the one reading a key rather than read it again."""
    store = _shared.get()
    if store is None:
        return read()
    entry = store.get(key)
    if entry is None:
        mine: Future[T] = Future()
        entry = store.setdefault(key, mine)
        if entry is mine:
            try:
                mine.set_result(read())
            except BaseException as exc:
                mine.set_exception(exc)
                raise
    result: T = entry.result()
    return result


def shared_given(key: Hashable, value: T) -> T:
    """`value` as the read of `key` inside a shared_reads scope, unless it was read already: a read over many spans
    gives each span's later reads their rows."""
    return shared(key, lambda: value)


@dataclass(frozen=True)
class Reading:
    """One figure for one period: the value with its sample size, and the target in force for that period."""

    period: Period
    start: datetime
    end: datetime
    # True while the period runs: the value covers its start up to now.
    to_date: bool
    value: float | None
    n: int
    pending: int
    parts: Mapping[str, float]
    target: float | None
    target_text: str
    # True / False against the target, None without a value or a target; a band's verdict is in `band`.
    met: bool | None
    band: str = ""


@dataclass(frozen=True)
class FigureReading:
    figure: FigureSpec
    current: Reading
    # The period before, over the same elapsed span while the current one runs (None when not asked for).
    previous: Reading | None
    # The quarter containing the period and the three before it, oldest first (asked for with quarters=True).
    quarters: list[Reading]
    # The `history` periods of the same kind before the current one, oldest first.
    history: list[Reading]

    @property
    def change(self) -> float | None:
        if self.previous is None or self.current.value is None or self.previous.value is None:
            return None
        return self.current.value - self.previous.value


def spans(period: Period, now: datetime) -> tuple[tuple[datetime, datetime, bool], tuple[datetime, datetime]]:
    """The current period's [start, end) and whether it is to date, and the previous period's span: the same
    elapsed time from its start while the current one runs (six days of December against six of November)."""
    start, end = period.start_at, period.end_at
    previous = period.previous()
    if start < now < end:
        elapsed = now - start
        return (start, now, True), (previous.start_at, min(previous.end_at, previous.start_at + elapsed))
    return (start, end, False), (previous.start_at, previous.end_at)


class FigureError(ValueError):
    """A request the figure cannot answer: an unknown dimension, or a period kind it is not defined for."""


def quarter_before(span: Span) -> Span:
    """For a figure defined quarter on quarter (its span starts on a quarter's first day): the previous quarter,
    whole when `span` covers its whole quarter, else over the same elapsed span from its start."""
    quarter = periods.containing(periods.QUARTER, periods.today(span.start))
    previous = quarter.previous()
    end = previous.end_at
    if span.end < quarter.end_at:
        end = min(end, previous.start_at + (span.end - span.start))
    return Span(start=previous.start_at, end=end, now=span.now, filters=span.filters)


def _check(spec: FigureSpec, filters: Mapping[str, str]) -> None:
    unknown = set(filters) - set(spec.dimensions)
    if unknown:
        allowed = ", ".join(spec.dimensions) or "none"
        raise FigureError(f"{spec.label} cannot be split by {', '.join(sorted(unknown))} (dimensions: {allowed}).")


# What a figure gives for a period it is not defined for, or an empty window.
NOTHING = Measure(value=None, n=0)


def _measurable(spec: FigureSpec, period: Period, start: datetime, end: datetime) -> bool:
    return not (spec.kinds and period.kind not in spec.kinds) and start < end


def _measure(
    spec: FigureSpec, period: Period, start: datetime, end: datetime, now: datetime, filters: Mapping[str, str]
) -> Measure:
    if not _measurable(spec, period, start, end):
        return NOTHING
    span = Span(start=start, end=end, now=now, filters=filters)
    # A report asks for one window several times (the quarter is also the last of its trend quarters).
    return shared(("measure", spec.key, *span.key()), lambda: spec.query(span))


def _reading(
    spec: FigureSpec,
    period: Period,
    start: datetime,
    end: datetime,
    to_date: bool,
    now: datetime,
    filters: Mapping[str, str],
    book: TargetBook,
) -> Reading:
    measure = _measure(spec, period, start, end, now, filters)
    return _judged(spec, period, start, end, to_date, measure, filters, book)


def _judged(
    spec: FigureSpec,
    period: Period,
    start: datetime,
    end: datetime,
    to_date: bool,
    measure: Measure,
    filters: Mapping[str, str],
    book: TargetBook,
) -> Reading:
    """The reading of `measure`, held to the target in force for `period`."""
    target, text, met, band = None, "", None, ""
    if spec.band is not None:
        low, high = (book.value(k, period.start) for k in spec.band)
        if low is not None and high is not None:
            target = low
            text = f"{value_text(low, spec.unit)} to {value_text(high, spec.unit)}"
            if measure.value is not None:
                band = "below" if measure.value < low else ("above" if measure.value > high else "within")
                met = band == "within"
    elif spec.target_rule is not None:
        target, text = spec.target_rule(period, book, filters)
        if to_date:
            # A whole period's target (the quarter's volume) is not met or missed by part of the period.
            return _assemble(period, start, end, to_date, measure, target, text, None, "")
    elif key := spec.target_key_for(period.kind):
        target = book.value(key, period.start)
        tspec = target_spec(key)
        if target is not None and tspec is not None:
            text = tspec.text(target)
    if met is None and target is not None and measure.value is not None and spec.band is None:
        tspec = target_spec(spec.target_key_for(period.kind))
        if tspec is not None:
            met = tspec.met(measure.value, target)
        elif spec.direction != AT:
            met = measure.value >= target if spec.direction == UP else measure.value <= target
    return _assemble(period, start, end, to_date, measure, target, text, met, band)


def _assemble(
    period: Period,
    start: datetime,
    end: datetime,
    to_date: bool,
    measure: Measure,
    target: float | None,
    text: str,
    met: bool | None,
    band: str,
) -> Reading:
    return Reading(
        period=period,
        start=start,
        end=end,
        to_date=to_date,
        value=measure.value,
        n=measure.n,
        pending=measure.pending,
        parts=dict(measure.parts),
        target=target,
        target_text=text,
        met=met,
        band=band,
    )


def _whole(spec: FigureSpec, period: Period, now: datetime, filters: Mapping[str, str], book: TargetBook) -> Reading:
    (start, end, to_date), _ = spans(period, now)
    return _reading(spec, period, start, end, to_date, now, filters, book)


def figure_read(
    key: str,
    period: Period,
    *,
    now: datetime,
    filters: Mapping[str, str] | None = None,
    compare: bool = True,
    quarters: bool = False,
    history: int = 0,
    book: TargetBook | None = None,
) -> FigureReading:
    """One figure for `period` (to date while it runs) and, with `compare`, the period before over the same
    elapsed span; with `quarters`, the quarter containing the period and the three before it; with `history`,
    that many periods of the same kind before this one. FigureError for a dimension the figure does not have."""
    with shared_reads():
        return _figure_read(
            key, period, now=now, filters=filters, compare=compare, quarters=quarters, history=history, book=book
        )


def _figure_read(
    key: str,
    period: Period,
    *,
    now: datetime,
    filters: Mapping[str, str] | None,
    compare: bool,
    quarters: bool,
    history: int,
    book: TargetBook | None,
) -> FigureReading:
    spec = figure_spec(key)
    filters = dict(filters or {})
    _check(spec, filters)
    book = book or TargetBook()
    (start, end, to_date), (previous_start, previous_end) = spans(period, now)
    current = _reading(spec, period, start, end, to_date, now, filters, book)
    previous = (
        _reading(spec, period.previous(), previous_start, previous_end, to_date, now, filters, book)
        if compare
        else None
    )
    quarter_readings: list[Reading] = []
    if quarters:
        quarter = periods.containing(periods.QUARTER, period.start)
        chain = [quarter]
        for _ in range(3):
            chain.insert(0, chain[0].previous())
        quarter_readings = [_whole(spec, q, now, filters, book) for q in chain]
    history_readings: list[Reading] = []
    back = period
    for _ in range(history):
        back = back.previous()
        history_readings.insert(0, _whole(spec, back, now, filters, book))
    return FigureReading(
        figure=spec, current=current, previous=previous, quarters=quarter_readings, history=history_readings
    )


def figures_read(
    keys: Sequence[str],
    period: Period,
    *,
    now: datetime,
    filters: Mapping[str, str] | None = None,
    compare: bool = True,
    quarters: bool = False,
    book: TargetBook | None = None,
) -> list[FigureReading]:
    """Several figures for one period, with one read of the targets and of the rows they share (shared_reads), read
    side by side on PostgreSQL (saypro.side_by_side). Filters apply to the figures that have the dimension; the
    others are read whole."""
    book = book or TargetBook()
    reads = [
        partial(
            figure_read,
            key,
            period,
            now=now,
            filters=own_filters(key, filters),
            compare=compare,
            quarters=quarters,
            book=book,
        )
        for key in keys
    ]
    with shared_reads():
        return list(side_by_side(reads))


def figure_series(
    key: str,
    chosen: Sequence[Period],
    *,
    now: datetime,
    filters: Mapping[str, str] | None = None,
    book: TargetBook | None = None,
) -> list[Reading]:
    """One figure for each of several disjoint periods (a quarter's weeks), each to date while it runs and held to
    its own period's target: in one read where the figure has a query over many spans, else one read a period,
    side by side."""
    spec = figure_spec(key)
    filters = dict(filters or {})
    _check(spec, filters)
    book = book or TargetBook()
    windows = [spans(p, now)[0] for p in chosen]
    if any(later[0] < earlier[1] for earlier, later in pairwise(sorted(windows))):
        # A grouped read puts each row in one span.
        raise ValueError("A figure series reads periods that do not overlap.")
    if spec.query_many is None:
        reads = [partial(figure_read, key, p, now=now, filters=filters, compare=False, book=book) for p in chosen]
        return [reading.current for reading in side_by_side(reads)]
    # The windows the figure counts, by their place in `chosen`.
    counted = {
        index: Span(start=start, end=end, now=now, filters=filters)
        for index, (p, (start, end, _)) in enumerate(zip(chosen, windows, strict=True))
        if _measurable(spec, p, start, end)
    }
    measured: dict[int, Measure] = {}
    with shared_reads():
        measures = spec.query_many(list(counted.values())) if counted else []
        for (index, span), measure in zip(counted.items(), measures, strict=True):
            # A figure read later for one of these windows (inside the same scope) reads it here.
            measured[index] = shared_given(("measure", spec.key, *span.key()), measure)
    return [
        _judged(spec, p, start, end, to_date, measured.get(index, NOTHING), filters, book)
        for index, (p, (start, end, to_date)) in enumerate(zip(chosen, windows, strict=True))
    ]


def own_filters(key: str, filters: Mapping[str, str] | None) -> dict[str, str]:
    """Of `filters`, those the figure can be split by."""
    dimensions = figure_spec(key).dimensions
    return {name: value for name, value in (filters or {}).items() if name in dimensions}
