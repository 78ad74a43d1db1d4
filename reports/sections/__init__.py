"""The report's sections: each builder turns one period's rollups and selectors into a Section.

A builder registers under its key with the area it belongs to; the area pages of the dashboard show the
sections of their area, and every report shows them all, followed by the summary and recommendations that
are written from the other sections' figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from django.utils import timezone

from saypro.figures.registry import FigureReading, Reading, shared_reads, spans, target_spec
from saypro.figures.targets import TargetBook
from saypro.localtime import local_tz
from saypro.periods import Period
from saypro.side_by_side import THREADS, side_by_side

from ..document import Document, Figure, Section, Series
from ..figures import area_figures, area_readings, not_split_by, quarter_trend
from ..rollups import Reader, reader_shared

ACCOUNTS, MESSAGING, SUPPORT, MODERATION, GENERAL = "accounts", "messaging", "support", "moderation", "general"
AREAS = {
    ACCOUNTS: "Accounts",
    MESSAGING: "Messaging",
    SUPPORT: "Support",
    MODERATION: "Moderation",
}


def running_series(name: str, readings: list[Reading], *, area: str = "") -> list[Series]:
    """A line over periods whose last may still be running: the finished periods as the line, a running one as a
    point of its own named "to date", so that a partial week or quarter is not read as a fall (or a rise)."""
    values = [reading.value for reading in readings]
    if not readings or not readings[-1].to_date:
        return [Series(name, values, area=area)]
    return [
        Series(name, [*values[:-1], None], area=area),
        Series(f"{name}, to date (not final)", [None] * (len(values) - 1) + [values[-1]]),
    ]


@dataclass
class Context:
    period: Period
    previous: Period
    reader: Reader
    targets: TargetBook = field(default_factory=TargetBook)
    # Dimension filters for the registry's figures (category, ad_category, region, channel, ...): the custom
    # reports of the documents. Figures without the dimension are read whole.
    filters: dict[str, str] = field(default_factory=dict)
    # Figures read over the last quarters, kept for the report: the summary's cards and the trends share them.
    _trends: dict[str, list[tuple[Period, Reading]]] = field(default_factory=dict)

    def registry(self, area: str) -> list[Figure]:
        """The area's registered figures for the period: every value, n, comparison and target from the registry.
        Inside build_sections' shared_reads scope, the figures read the rollups through this context's reader."""
        reader_shared(self.now, self.reader)
        return area_figures(area, self.period, now=self.now, filters=self.filters, book=self.targets)

    def readings(self, area: str) -> list[FigureReading]:
        """The area's registry readings, for a section that also shows what lies behind a value (its parts)."""
        reader_shared(self.now, self.reader)
        return area_readings(area, self.period, now=self.now, filters=self.filters, book=self.targets)

    def quarter_trend(self, key: str) -> list[tuple[Period, Reading]]:
        """The registered figure over the quarter containing the period and the four before (reports.figures)."""
        if key not in self._trends:
            self._trends[key] = quarter_trend(key, self.period, now=self.now, book=self.targets, filters=self.filters)
        return self._trends[key]

    def target(self, key: str) -> float | None:
        """The target in force for the period (saypro.figures), in the figure's unit."""
        return self.targets.value(key, self.period.start)

    def target_text(self, key: str) -> str:
        value, spec = self.target(key), target_spec(key)
        return "" if value is None or spec is None else spec.text(value)

    @property
    def now(self) -> datetime:
        return self.reader.now

    @property
    def previous_end(self) -> datetime:
        """Where the previous period's figures stop: its end, or the same elapsed span while this one runs."""
        return spans(self.period, self.now)[1][1]

    @property
    def end(self) -> datetime:
        """Where the period's figures stop: its end, or now for a period still running."""
        return min(self.period.end_at, self.now)

    def days(self) -> list[date]:
        """The period's days up to today while it runs: daily charts and rows stop where the figures do."""
        today = self.end.astimezone(local_tz()).date()
        return [day for day in self.period.day_list() if day <= today]


Builder = Callable[[Context], Section]


@dataclass(frozen=True)
class SectionSpec:
    key: str
    area: str
    build: Builder
    order: int


_specs: dict[str, SectionSpec] = {}


def section_register(key: str, *, area: str, order: int) -> Callable[[Builder], Builder]:
    def decorator(build: Builder) -> Builder:
        _specs[key] = SectionSpec(key=key, area=area, build=build, order=order)
        return build

    return decorator


def specs(area: str | None = None) -> list[SectionSpec]:
    chosen = [s for s in _specs.values() if area is None or s.area == area]
    return sorted(chosen, key=lambda s: s.order)


def context_for(period: Period, now: datetime | None = None, filters: dict[str, str] | None = None) -> Context:
    return Context(
        period=period, previous=period.previous(), reader=Reader(now or timezone.now()), filters=dict(filters or {})
    )


def build_section(spec: SectionSpec, ctx: Context) -> Section:
    section = spec.build(ctx)
    # A chart takes its section's area colour unless its builder chose one.
    for chart in section.charts:
        chart.area = chart.area or spec.area
    # A figure read without a filter says so, rather than pass for the filtered value.
    for figure in section.figures:
        figure.not_split_by = not_split_by(figure.key, ctx.filters)
    return section


def build_sections(ctx: Context, area: str | None = None, key: str | None = None) -> list[Section]:
    """The sections of one area (or all), or the one named `key`."""
    chosen = [spec for spec in specs(area) if key is None or spec.key == key]
    # The sections' figures share what they read (the same rows for several figures, this period and the last).
    with shared_reads():
        return list(_built(chosen, ctx))


def _built(chosen: list[SectionSpec], ctx: Context) -> Iterator[Section]:
    """The sections of `chosen`, in order. More sections than side_by_side has threads (a report's eleven, the
    accounts area's four) are built side by side, each reading its figures in its own thread; fewer (an area whose
    time is one big section) are built here, and each reads its figures side by side. On the backlog, for a
    quarter, the support area took 470 ms with its two sections side by side and 380 ms with its figures side by
    side; the accounts area 215–230 ms with its four sections side by side and about 270 ms with its figures."""
    if len(chosen) <= THREADS:
        for spec in chosen:
            yield build_section(spec, ctx)
        return
    yield from side_by_side([partial(build_section, spec, ctx) for spec in chosen])


def register() -> None:
    """Import the builders (each registers itself)."""
    from . import accounts, compliance, improvements, messaging, moderation, support, topics, trends  # noqa: F401


def build_document(
    *,
    kind: str,
    period: Period,
    now: datetime | None = None,
    progress: Callable[[int, str], None] | None = None,
    filters: dict[str, str] | None = None,
    section_built: Callable[[Section], None] | None = None,
) -> Document:
    """The report's document; `section_built` is handed each area section as soon as it is built."""
    ctx = context_for(period, now, filters)
    chosen = specs()
    sections: list[Section] = []
    # One scope for the whole document: the summary and the appendices read figures the sections read too.
    with shared_reads():
        built = _built(chosen, ctx)
        for index, spec in enumerate(chosen):
            if progress:
                progress(10 + int(60 * index / max(1, len(chosen))), f"Computing {spec.key.replace('_', ' ')}")
            sections.append(next(built))
            if section_built:
                section_built(sections[-1])
        return _document(kind, period, ctx, sections)


def _document(kind: str, period: Period, ctx: Context, sections: list[Section]) -> Document:
    from saypro import periods

    from ..glossary import glossary
    from .summary import advise, appendices, executive_summary, recommendations, scorecard

    local = timezone.localtime(ctx.now)
    advice = advise(sections, ctx)
    return Document(
        kind=kind,
        title=f"SayPro {kind.capitalize()} Operations Report",
        period_slug=period.slug,
        period_label=periods.label_at(period, ctx.now),
        previous_label=periods.compared_label(period, ctx.now),
        generated_at=local.strftime("%Y-%m-%d %H:%M %Z"),
        time_zone=str(local.tzinfo),
        sections=[executive_summary(sections, ctx, advice), scorecard(sections), *sections, recommendations(advice)],
        glossary=glossary(),
        appendices=appendices(ctx),
        filters=dict(ctx.filters),
    )
