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
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
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

from ..document import Chart, Document, Section, Table, cell_text, format_value
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


def _table(
    columns: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle], widths: list[float] | None = None
) -> LongTable:
    data = [[_p(c, styles["head"]) for c in columns]]
    data += [[_p(cell_text(v), styles["cell"]) for v in row] for row in rows[:MAX_TABLE_ROWS]]
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
    if not chart.labels:
        drawing.add(String(10, height / 2, "No data", fontName=FONT, fontSize=8, fillColor=MUTED))
        return drawing
    if chart.kind == "line":
        return _line(chart, drawing, width, height)
    plot: Any = VerticalBarChart()
    plot.x, plot.y, plot.width, plot.height = 36, 26, width - 46, height - 46
    plot.data = [[v or 0 for v in s.values] for s in chart.series] or [[0]]
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
        plot.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        plot.bars[i].strokeColor = None
    drawing.add(plot)
    _legend(chart, drawing, width, height)
    return drawing


def _legend(chart: Chart, drawing: Drawing, width: float, height: float) -> None:
    if len(chart.series) < 2:
        return
    legend: Any = Legend()
    legend.x, legend.y = width - 4, height - 4
    legend.alignment = "right"
    legend.fontName, legend.fontSize = FONT, 6.5
    legend.columnMaximum = 4
    legend.colorNamePairs = [(colors.HexColor(PALETTE[i % len(PALETTE)]), s.name) for i, s in enumerate(chart.series)]
    drawing.add(legend)


def _line(chart: Chart, drawing: Drawing, width: float, height: float) -> Drawing:
    """Lines drawn point by point like the web's SVG: a gap (no value) breaks the line instead of dropping to 0."""
    left, bottom, right, top = 36.0, 26.0, width - 10, height - 20
    values = [v for s in chart.series for v in s.values if v is not None]
    maximum = 100.0 if chart.unit == "percent" else max([*values, 1.0]) * 1.1
    n = len(chart.labels)
    xs = [left + ((right - left) * i / (n - 1) if n > 1 else (right - left) / 2) for i in range(n)]

    def y(value: float) -> float:
        return bottom + (top - bottom) * value / maximum

    for step in range(5):
        level = maximum * step / 4
        drawing.add(Line(left, y(level), right, y(level), strokeColor=colors.HexColor("#e3e7ee"), strokeWidth=0.5))
        drawing.add(
            String(
                left - 3,
                y(level) - 2,
                format_value(level, chart.unit),
                fontName=FONT,
                fontSize=6,
                textAnchor="end",
                fillColor=MUTED,
            )
        )
    every = max(1, -(-n // 14))
    for i, label in enumerate(chart.labels):
        if i % every == 0:
            drawing.add(
                String(xs[i], bottom - 9, label[:10], fontName=FONT, fontSize=5.5, textAnchor="middle", fillColor=MUTED)
            )
    for j, series in enumerate(chart.series):
        colour = colors.HexColor(PALETTE[j % len(PALETTE)])
        run: list[float] = []
        for i, value in enumerate([*series.values, None]):
            if value is None:
                if len(run) >= 4:
                    drawing.add(PolyLine(run, strokeColor=colour, strokeWidth=1.5))
                run = []
                continue
            run += [xs[i], y(value)]
            drawing.add(Circle(xs[i], y(value), 1.6, fillColor=colour, strokeColor=None))
    _legend(chart, drawing, width, height)
    return drawing


def _section(section: Section, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    story: list[Flowable] = [_p(section.title, styles["h1"])]
    for paragraph in section.paragraphs:
        story.append(_p(paragraph, styles["body"]))
    if section.figures:
        rows = [
            [
                f.label,
                f.text() + (f" ({f.sample_text})" if f.sample_text else ""),
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
