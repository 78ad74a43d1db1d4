"""The report document: sections of figures, charts and tables, built once and rendered as HTML, PDF, XLSX,
CSV and JSON. Every format reads the same document, so the web page, the PDF and the API show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PERCENT, COUNT, HOURS, MINUTES, SCORE, RATIO, NPS = "percent", "count", "hours", "minutes", "score", "ratio", "nps"
# The dimensions a report or an area page can be narrowed to, as a reader names them.
FILTER_LABELS = {
    "category": "Inquiry type",
    "ad_category": "Ad category",
    "region": "Region",
    "channel": "Channel",
    "priority": "Priority",
    "reason": "Flag reason",
    "content_type": "Flagged content",
}


def filters_text(filters: dict[str, str]) -> str:
    """ "Inquiry type: complaint · Region: Gauteng", in FILTER_LABELS' order."""
    return " · ".join(f"{label}: {filters[name]}" for name, label in FILTER_LABELS.items() if filters.get(name))


def dimensions_text(names: Sequence[str]) -> str:
    return ", ".join(FILTER_LABELS.get(name, name).lower() for name in names)


@dataclass
class Figure:
    """One number with its comparison: the previous period's value, the change and the target."""

    key: str
    label: str
    value: float | None
    unit: str = COUNT
    previous: float | None = None
    target: float | None = None
    # How the target reads ("≥ 95 %", "under 3 h"); blank when there is none.
    target_text: str = ""
    higher_is_better: bool = True
    note: str = ""
    # The number of items the value was computed from, and the items of the period not yet countable (inside
    # their deadline); None for figures that are not counts over items.
    n: int | None = None
    pending: int | None = None
    # The value covers the period's start up to now (the period still runs).
    to_date: bool = False
    # The registry's judgement where a plain comparison with the target would be wrong (a band, "under 3 %").
    verdict: bool | None = None
    judged: bool = False
    # The target's key (saypro.figures): the summary counts each target once, however many figures show it.
    target_key: str = ""
    # The report's filters this figure cannot be split by: its value covers everything, whatever they say.
    not_split_by: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def relative_change(self) -> float | None:
        if self.change is None or not self.previous:
            return None
        return self.change / abs(self.previous)

    @property
    def met(self) -> bool | None:
        if self.judged:
            return self.verdict
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def grade(self) -> str:
        return {True: "ok", False: "bad", None: "neutral"}[self.met]

    def text(self, value: float | None = None) -> str:
        return format_value(self.value if value is None else value, self.unit)

    @property
    def sample_text(self) -> str:
        """ "n = 41 · 3 pending · to date": what the value stands on, printed beside it in every format."""
        parts = [] if self.n is None else [f"n = {self.n:,}"]
        if self.pending:
            parts.append(f"{self.pending:,} pending")
        if self.to_date:
            parts.append("to date")
        if self.not_split_by:
            parts.append(f"all, not split by {dimensions_text(self.not_split_by)}")
        return " · ".join(parts)

    @property
    def previous_text(self) -> str:
        return format_value(self.previous, self.unit)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "—"
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        if self.unit == PERCENT:
            return f"{sign}{abs(change):.1f} pts"
        relative = self.relative_change
        base = format_value(abs(change), self.unit)
        return f"{sign}{base}" + (f" ({sign}{abs(relative) * 100:.0f} %)" if relative is not None else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "change": self.change,
            "relative_change": self.relative_change,
            "met": self.met,
            "text": self.text() if self.value is not None else "—",
            "sample_text": self.sample_text,
        }


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == PERCENT:
        return f"{value:.1f} %"
    if unit == HOURS:
        # Under an hour, minutes read better than "0.2 h".
        return f"{value * 60:.0f} min" if abs(value) < 1 else f"{value:.1f} h"
    if unit == NPS:
        return f"{value:+.0f}"
    if unit == MINUTES:
        return f"{value:.1f} min"
    if unit == SCORE:
        return f"{value:.2f}"
    if unit == RATIO:
        return f"{value:.2f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def cell_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    # The area the series stands for (a promise's), which decides its colour; blank: the chart's order.
    area: str = ""
    # Each point's own target, where a chart's series or categories are held to different ones (each promise its
    # own): drawn as the chart's target line is, for the charts that have no single `Chart.target`.
    targets: list[float | None] | None = None


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar", "line" or "pie"
    labels: list[str]
    series: list[Series]
    unit: str = COUNT
    # A target line on bar and line charts.
    target: float | None = None
    # The area the chart belongs to: its first series takes the area's colour.
    area: str = ""
    # A small multiple: the PDF sets such charts two abreast.
    compact: bool = False


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class Card:
    """A promise on the summary page: its headline figure and that figure over the last five quarters."""

    title: str
    figure: Figure
    trend_labels: list[str]
    trend: list[float | None]
    # The footnote that says where the figure comes from.
    source: int
    # The figure's area, whose colour the card's trend takes.
    area: str = ""

    @property
    def trend_text(self) -> str:
        """The trend in words, for screen readers: "Q1 2026 90.0 %, Q2 2026 —, …"."""
        pairs = zip(self.trend_labels, self.trend, strict=True)
        return ", ".join(f"{label} {self.figure.text(v) if v is not None else '—'}" for label, v in pairs)


@dataclass
class Finding:
    """A win or a risk on the summary page: one plain sentence with its figure, and what to do about it."""

    kind: str  # "win" or "risk"
    text: str
    figure_key: str
    recommendation: str
    source: int


@dataclass
class Section:
    key: str
    title: str
    # Paragraphs written from the data, in plain sentences.
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # False when the area's data is not there (its app is not installed): the section says so.
    available: bool = True
    # The executive summary's page: the promises' cards, the wins and risks, and the footnotes they cite.
    cards: list[Card] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    @property
    def wins(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "win"]

    @property
    def risks(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == "risk"]


@dataclass
class Document:
    kind: str
    title: str
    period_slug: str
    period_label: str
    previous_label: str
    generated_at: str
    time_zone: str
    sections: list[Section]
    glossary: list[tuple[str, str]] = field(default_factory=list)
    # Raw data behind the charts, one table per appendix: the XLSX appendices and the CSV.
    appendices: list[Table] = field(default_factory=list)
    # The dimensions the report was narrowed to (FILTER_LABELS' names); empty for the whole marketplace.
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def filters_note(self) -> str:
        """What a filtered report's title page says: which filters applied, and to what."""
        if not self.filters:
            return ""
        return (
            f"Filtered: {filters_text(self.filters)}. The figures that can be split by these apply them; a figure "
            'marked "not split by" covers everything, as do the charts, tables and appendices.'
        )

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def figures(self) -> list[tuple[Section, Figure]]:
        return [(section, figure) for section in self.sections for figure in section.figures]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "period_slug": self.period_slug,
            "period_label": self.period_label,
            "previous_label": self.previous_label,
            "generated_at": self.generated_at,
            "time_zone": self.time_zone,
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "available": s.available,
                    "paragraphs": s.paragraphs,
                    "figures": [f.as_dict() for f in s.figures],
                    "charts": [asdict(c) for c in s.charts],
                    "tables": [asdict(t) for t in s.tables],
                    "cards": [asdict(c) for c in s.cards],
                    "findings": [asdict(f) for f in s.findings],
                    "sources": s.sources,
                }
                for s in self.sections
            ],
            "glossary": [list(entry) for entry in self.glossary],
            "appendices": [asdict(t) for t in self.appendices],
            "filters": dict(self.filters),
        }


def _figure_from_dict(data: dict[str, Any]) -> Figure:
    return Figure(
        **{k: v for k, v in data.items() if k not in {"change", "relative_change", "met", "text", "sample_text"}}
    )


def document_from_dict(data: dict[str, Any]) -> Document:
    """The stored JSON back into a document (for the preview and downloads of a finished run). Documents stored
    before the summary had cards and findings read back without them."""
    sections = [
        Section(
            key=s["key"],
            title=s["title"],
            available=s["available"],
            paragraphs=s["paragraphs"],
            figures=[_figure_from_dict(f) for f in s["figures"]],
            charts=[Chart(**{**c, "series": [Series(**x) for x in c["series"]]}) for c in s["charts"]],
            tables=[Table(**t) for t in s["tables"]],
            cards=[Card(**{**c, "figure": _figure_from_dict(c["figure"])}) for c in s.get("cards", [])],
            findings=[Finding(**f) for f in s.get("findings", [])],
            sources=s.get("sources", []),
        )
        for s in data["sections"]
    ]
    return Document(
        kind=data["kind"],
        title=data["title"],
        period_slug=data["period_slug"],
        period_label=data["period_label"],
        previous_label=data["previous_label"],
        generated_at=data["generated_at"],
        time_zone=data["time_zone"],
        sections=sections,
        glossary=[(a, b) for a, b in data["glossary"]],
        appendices=[Table(**t) for t in data["appendices"]],
        filters=data.get("filters", {}),
    )
