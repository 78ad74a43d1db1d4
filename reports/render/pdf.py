"""The PDF: reportlab's platypus for the layout and its own graphics for the charts (no system libraries).

Text is set in Bitstream Vera, shipped with reportlab, which has the signs the figures use (≥, −, ÷).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from ..document import Chart, Document, Section, Table, format_value
from .charts import PALETTE

FONT, BOLD = "Vera", "Vera-Bold"
_FONTS = Path(reportlab.__file__).parent / "fonts"
MAX_TABLE_ROWS = 400


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(_FONTS / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(_FONTS / "VeraBd.ttf")))


BRAND = colors.HexColor("#2350c8")
MUTED = colors.HexColor("#5d6878")
OK, BAD = colors.HexColor("#1d7a46"), colors.HexColor("#b42318")


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=20, leading=24, spaceAfter=6, textColor=BRAND),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=15, textColor=MUTED),
        "h1": ParagraphStyle(
            "h1", fontName=BOLD, fontSize=15, leading=19, spaceBefore=6, spaceAfter=6, textColor=BRAND
        ),
        "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5, spaceAfter=5),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=colors.white),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(
    columns: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle], widths: list[float] | None = None
) -> LongTable:
    data = [[_p(c, styles["head"]) for c in columns]]
    data += [[_p(_cell(v), styles["cell"]) for v in row] for row in rows[:MAX_TABLE_ROWS]]
    table = LongTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), BRAND),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f6f9")]),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dfe3ea")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _chart(chart: Chart) -> Drawing:
    width, height = 170 * mm, 62 * mm
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, chart.title, fontName=BOLD, fontSize=9))
    if chart.kind == "pie":
        values = [v or 0.0 for v in chart.series[0].values] if chart.series else []
        total = sum(values)
        if not total:
            drawing.add(String(10, height / 2, "No data", fontName=FONT, fontSize=8, fillColor=MUTED))
            return drawing
        shown = [(label, v) for label, v in zip(chart.labels, values, strict=True) if v]
        pie: Any = Pie()
        pie.x, pie.y, pie.width, pie.height = 10, 6, height - 24, height - 24
        pie.data = [v for _, v in shown]
        pie.labels = None
        pie.slices.strokeColor = colors.white
        legend: Any = Legend()
        legend.x, legend.y = height + 10, height - 22
        legend.fontName, legend.fontSize = FONT, 7
        legend.alignment = "right"
        pairs = []
        for i, (label, value) in enumerate(shown):
            colour = colors.HexColor(PALETTE[chart.labels.index(label) % len(PALETTE)])
            pie.slices[i].fillColor = colour
            pairs.append((colour, f"{label}: {format_value(value, chart.unit)} ({value / total * 100:.1f} %)"))
        legend.colorNamePairs = pairs
        drawing.add(pie)
        drawing.add(legend)
        return drawing
    # Any: the bar and line charts share the layout attributes but not their series styling.
    plot: Any = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 36, 26, width - 46, height - 46
    plot.data = [
        [v if v is not None else (0 if chart.kind == "bar" else None) for v in s.values] for s in chart.series
    ] or [[0]]
    plot.categoryAxis.categoryNames = [label[:14] for label in chart.labels] or [""]
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = 6
    plot.categoryAxis.labels.angle = 35 if len(chart.labels) > 6 else 0
    plot.categoryAxis.labels.boxAnchor = "ne" if len(chart.labels) > 6 else "n"
    if len(chart.labels) > 16:
        step = -(-len(chart.labels) // 16)
        plot.categoryAxis.categoryNames = [label[:14] if i % step == 0 else "" for i, label in enumerate(chart.labels)]
    plot.valueAxis.labels.fontName = FONT
    plot.valueAxis.labels.fontSize = 6
    plot.valueAxis.valueMin = 0
    if chart.unit == "percent":
        plot.valueAxis.valueMax = 100
    for i in range(len(chart.series)):
        colour = colors.HexColor(PALETTE[i % len(PALETTE)])
        if chart.kind == "bar":
            plot.bars[i].fillColor = colour
            plot.bars[i].strokeColor = None
        else:
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.5
    drawing.add(plot)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = width - 4, height - 4
        legend.alignment = "right"
        legend.fontName, legend.fontSize = FONT, 6.5
        legend.columnMaximum = 4
        legend.colorNamePairs = [
            (colors.HexColor(PALETTE[i % len(PALETTE)]), s.name) for i, s in enumerate(chart.series)
        ]
        drawing.add(legend)
    return drawing


def _section(section: Section, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [_p(section.title, styles["h1"])]
    for paragraph in section.paragraphs:
        story.append(_p(paragraph, styles["body"]))
    if section.figures:
        rows = [
            [
                f.label,
                f.text(),
                f.text(f.previous) if f.previous is not None else "—",
                f.change_text,
                f.target_text or "—",
                {True: "met", False: "missed", None: "—"}[f.met],
            ]
            for f in section.figures
        ]
        table = _table(
            ["Figure", "Value", "Previous", "Change", "Target", "Status"],
            rows,
            styles,
            [62 * mm, 24 * mm, 24 * mm, 28 * mm, 22 * mm, 16 * mm],
        )
        for i, figure in enumerate(section.figures, start=1):
            if figure.met is not None:
                table.setStyle(TableStyle([("TEXTCOLOR", (5, i), (5, i), OK if figure.met else BAD)]))
        story.append(table)
        story.append(Spacer(1, 4 * mm))
    for chart in section.charts:
        story.append(KeepTogether([_chart(chart), Spacer(1, 3 * mm)]))
    for table_data in section.tables:
        story += _table_block(table_data, styles)
    return story


def _table_block(table: Table, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    parts: list[Flowable] = [_p(table.title, styles["h2"])]
    if table.rows:
        parts.append(_table(table.columns, table.rows, styles))
        if len(table.rows) > MAX_TABLE_ROWS:
            parts.append(
                _p(f"First {MAX_TABLE_ROWS} of {len(table.rows):,} rows; the XLSX and CSV have all.", styles["small"])
            )
    else:
        parts.append(_p("Nothing in this period.", styles["small"]))
    if table.note:
        parts.append(_p(table.note, styles["small"]))
    parts.append(Spacer(1, 3 * mm))
    # A short table stays on one page with its title; a long one flows, its header repeated on each page.
    return [KeepTogether(parts)] if len(table.rows) < 25 else parts


def render_pdf(document: Document) -> bytes:
    _fonts()
    styles = _styles()
    buffer = io.BytesIO()

    def footer(canvas: object, doc: object) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(FONT, 7)  # type: ignore[attr-defined]
        canvas.setFillColor(MUTED)  # type: ignore[attr-defined]
        canvas.drawString(18 * mm, 10 * mm, f"{document.title} · {document.period_label}")  # type: ignore[attr-defined]
        canvas.drawRightString(192 * mm, 10 * mm, f"Page {doc.page}")  # type: ignore[attr-defined]
        canvas.restoreState()  # type: ignore[attr-defined]

    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{document.title} {document.period_slug}",
        author="SayPro Ops",
    )
    story: list[Flowable] = [
        _p(document.title, styles["title"]),
        _p(f"{document.period_label} · compared with {document.previous_label}", styles["subtitle"]),
        _p(f"Generated {document.generated_at} · times in {document.time_zone}", styles["subtitle"]),
        Spacer(1, 6 * mm),
    ]
    for index, section in enumerate(document.sections):
        if index:
            story.append(PageBreak() if section.key in {"compliance", "recommendations"} else Spacer(1, 6 * mm))
        story += _section(section, styles)
    story += [PageBreak(), _p("Glossary", styles["h1"])]
    for term, definition in document.glossary:
        story.append(Paragraph(f"<b>{escape(term)}</b>: {escape(definition)}", styles["body"]))
    for appendix in document.appendices:
        story.append(PageBreak())
        story.append(_p(appendix.title, styles["h1"]))
        story += _table_block(appendix, styles)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
