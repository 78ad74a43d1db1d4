"""The PDF: reportlab's platypus for the layout, the charts drawn by the one chart module (charts.py) as images.

Page 1 is the executive summary, shrunk to fit if it must; then the targets, the trends and the sections; the
raw tables live in the XLSX and the CSV, and the PDF ends with a one-page index of what they hold. Text is set
in DejaVu Sans, shipped with matplotlib and the face its charts are drawn in: it has every sign the figures and
their definitions use (≥, −, ÷, →), where reportlab's own Bitstream Vera, on the same metrics, lacks arrows.
"""

from __future__ import annotations

import io
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepInFrame,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as Grid
from reportlab.platypus.flowables import Flowable

from ..document import Card, Chart, Document, Finding, Section, Table, cell_text
from .charts import PDF_COMPACT_SIZE, PDF_DPI, PDF_SIZE, chart_png, png_size, sparkline_png
from .sheets import sheet_names

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FONT_FILES = {FONT: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# A section's table prints this many rows; the XLSX and the CSV have them all.
MAX_TABLE_ROWS = 30
# The text width of an A4 page between the margins and the frame's padding.
TEXT_WIDTH = 168 * mm
# A table of up to this many rows is kept whole with its title; a longer one needs TABLE_ROOM to start on a page
# (its title, header and a few rows), and a section SECTION_ROOM (its title, opening sentences and first figures).
SHORT_TABLE_ROWS = 8
TABLE_ROOM = 30 * mm
SECTION_ROOM = 45 * mm


def _fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        for name, filename in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))


BRAND = colors.HexColor("#2350c8")
MUTED = colors.HexColor("#5d6878")
OK, BAD = colors.HexColor("#1d7a46"), colors.HexColor("#b42318")


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=20, leading=24, spaceAfter=6, textColor=BRAND),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=15, textColor=MUTED),
        # A section's title and its opening sentences never end a page alone: the section opens with room for
        # them and the first rows of its figures (SECTION_ROOM), not with the whole table kept beside them.
        "h1": ParagraphStyle(
            "h1", fontName=BOLD, fontSize=15, leading=19, spaceBefore=6, spaceAfter=6, textColor=BRAND
        ),
        "lead": ParagraphStyle("lead", fontName=FONT, fontSize=9, leading=12.5, spaceAfter=5),
        "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=11, leading=14, spaceBefore=5, spaceAfter=3),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5, spaceAfter=5),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9.5, textColor=MUTED),
        "h3": ParagraphStyle("h3", fontName=BOLD, fontSize=9, leading=12, spaceBefore=4, spaceAfter=2),
        "tiny": ParagraphStyle("tiny", fontName=FONT, fontSize=6.5, leading=8, textColor=MUTED),
        "card_title": ParagraphStyle("card_title", fontName=BOLD, fontSize=8, leading=10),
        "card_value": ParagraphStyle("card_value", fontName=BOLD, fontSize=16, leading=19),
        "finding": ParagraphStyle(
            "finding", fontName=FONT, fontSize=8.5, leading=11, leftIndent=9, bulletIndent=0, spaceAfter=3
        ),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=colors.white),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _table(
    columns: list[str], rows: list[list[Any]], styles: dict[str, ParagraphStyle], widths: list[float] | None = None
) -> LongTable:
    size = 7.5
    rows = _aligned(rows)
    if widths is None:
        widths = _widths(columns, rows, size)
        if widths is None:
            # Too many columns for their numbers at 7.5 pt: the table is set smaller rather than break them.
            size = 6.5
            widths = _widths(columns, rows, size) or _squeezed(columns, rows, size)
    head = ParagraphStyle("head-sized", parent=styles["head"], fontSize=size, leading=size + 2)
    cell = ParagraphStyle("cell-sized", parent=styles["cell"], fontSize=size, leading=size + 2)
    data = [[_cell(c, head, width) for c, width in zip(columns, widths, strict=True)]]
    data += [
        [_cell(cell_text(v), cell, width) for v, width in zip(row, widths, strict=False)]
        for row in rows[:MAX_TABLE_ROWS]
    ]
    table = LongTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                # The cells drawn as plain text (see _cell) in the same font, size and colour as the paragraphs.
                ("FONT", (0, 0), (-1, 0), BOLD, size, size + 2),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONT", (0, 1), (-1, -1), FONT, size, size + 2),
                ("BACKGROUND", (0, 0), (-1, 0), BRAND),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f6f9")]),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dfe3ea")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ]
        )
    )
    return table


def _cell(text: str, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A cell that fits its column on one line is drawn as plain text, on the baseline a one-line paragraph has:
    breaking every number of every table into lines was most of the time a report's PDF took."""
    if "\n" not in text and _width(text, style.fontName, style.fontSize) <= width - PADDING:
        return text
    return _p(text, style)


# A cell this short (a number, a date, a heading such as "Pending") is never broken across lines.
WHOLE = 14
# A cell's left and right padding each, and (PADDING) both with a point to spare.
CELL_PADDING = 3.5
PADDING = 2 * CELL_PADDING + 1


def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def _floors(columns: list[str], rows: list[list[Any]], size: float, whole_headings: bool) -> list[float]:
    shown = rows[:MAX_TABLE_ROWS]
    out = []
    for index, heading in enumerate(columns):
        cells = [cell_text(row[index]) for row in shown if index < len(row)] or [""]
        piece = max(_width(t if len(t) <= WHOLE else max(t.split() or [""], key=len), FONT, size) for t in cells)
        head = _width(max(heading.split() or [""], key=len), BOLD, size)
        if whole_headings:
            head = _width(heading, BOLD, size) if len(heading) <= WHOLE else _two_lines(heading, size)
        out.append(max(head, piece) + PADDING)
    return out


def _two_lines(heading: str, size: float) -> float:
    """The narrowest width that sets a heading on two lines: "Q4 2026 / to date" rather than a word a line."""
    words = heading.split()
    return min(
        (
            max(_width(" ".join(words[:cut]), BOLD, size), _width(" ".join(words[cut:]), BOLD, size))
            for cut in range(1, len(words))
        ),
        default=_width(heading, BOLD, size),
    )


def _aligned(rows: list[list[Any]]) -> list[list[Any]]:
    """Each column's numbers to as many decimals as its most precise one, so that they line up: 34.0 above 30.1,
    4.00 above 4.64, rather than 34 and 4; a negative one with the minus sign the figures print (−1.2, not -1.2)."""
    shown = rows[:MAX_TABLE_ROWS]
    places: dict[int, int] = {}
    for row in shown:
        for index, value in enumerate(row):
            if isinstance(value, float) and not value.is_integer():
                text = cell_text(value)
                places[index] = max(places.get(index, 0), len(text) - text.index(".") - 1 if "." in text else 0)

    def number(value: Any, index: int) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        text = f"{value:,.{places[index]}f}" if isinstance(value, float) and places.get(index) else cell_text(value)
        return "−" + text[1:] if text.startswith("-") else text

    return [[number(v, i) for i, v in enumerate(row)] for row in shown]


def _widths(columns: list[str], rows: list[list[Any]], size: float) -> list[float] | None:
    """Each column gets at least its heading and its longest short cell or word (so that no number, date or
    heading breaks), and the width left over goes to the columns with longer text, by how much of their text
    would wrap: a column of long sentences, not one long cell, is what makes the rows tall.
    Where the headings do not fit whole, they wrap between words; None where even that does not fit."""
    floor = _floors(columns, rows, size, whole_headings=True)
    if sum(floor) > TEXT_WIDTH:
        floor = _floors(columns, rows, size, whole_headings=False)
    if sum(floor) > TEXT_WIDTH:
        return None
    shown = rows[:MAX_TABLE_ROWS]
    cells = [[cell_text(row[i]) for row in shown if i < len(row)] or [""] for i in range(len(columns))]
    lengths = [[_width(t, FONT, size) + PADDING for t in c] for c in cells]
    longest = [min(max(c), TEXT_WIDTH / 2) for c in lengths]
    extra = [max(0.0, m - f) for m, f in zip(longest, floor, strict=True)]
    wrapped = [sum(max(0.0, w - f) for w in c) for c, f in zip(lengths, floor, strict=True)]
    spare = TEXT_WIDTH - sum(floor)
    if not sum(extra):
        return [f + spare / len(floor) for f in floor]
    # More than the longest cell is no use to a column: what is left after that goes to every column alike.
    given = [min(e, spare * w / sum(wrapped)) for e, w in zip(extra, wrapped, strict=True)]
    rest = (spare - sum(given)) / len(floor)
    return [f + g + rest for f, g in zip(floor, given, strict=True)]


def _squeezed(columns: list[str], rows: list[list[Any]], size: float) -> list[float]:
    """The last resort for a table too wide for the page: every column narrowed in proportion."""
    floor = _floors(columns, rows, size, whole_headings=False)
    return [TEXT_WIDTH * f / sum(floor) for f in floor]


def _half_width(chart: Chart) -> bool:
    return chart.compact or chart.kind == "pie"


def _drawn(chart: Chart) -> bool:
    # An empty chart would spend a third of a page on saying so: it is a line of text instead.
    return bool(chart.labels) and any(v for series in chart.series for v in series.values)


def _png(chart: Chart) -> bytes:
    return chart_png(chart, PDF_COMPACT_SIZE if _half_width(chart) else PDF_SIZE)


class ChartsAhead:
    """Draws a report's PDF charts in a thread of its own as each section is built. Reading the figures mostly
    waits on the database, so the drawing takes the other core meanwhile instead of following the reads; the PDF
    takes each image when it gets to it, and draws itself any chart it was not handed."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdf-charts")
        self._drawing: dict[int, Future[bytes]] = {}

    def section_built(self, section: Section) -> None:
        for chart in section.charts:
            if _drawn(chart):
                self._drawing[id(chart)] = self._pool.submit(_png, chart)

    def png(self, chart: Chart) -> bytes:
        drawing = self._drawing.pop(id(chart), None)
        return _png(chart) if drawing is None else drawing.result()

    def __enter__(self) -> ChartsAhead:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._pool.shutdown(cancel_futures=True)


def _chart(chart: Chart, styles: dict[str, ParagraphStyle], charts: ChartsAhead) -> Flowable:
    return KeepTogether(_chart_parts(chart, styles, charts))


def _chart_parts(chart: Chart, styles: dict[str, ParagraphStyle], charts: ChartsAhead) -> list[Flowable]:
    if not _drawn(chart):
        return [_p(chart.title, styles["h3"]), _p("No data in this period.", styles["small"])]
    data = charts.png(chart)
    width, height = png_size(data)
    # Printed at the resolution it was drawn for, so that its type matches the body text's size.
    image = Image(io.BytesIO(data), width=width / PDF_DPI * 72, height=height / PDF_DPI * 72)
    return [_p(chart.title, styles["h3"]), image, Spacer(1, 3 * mm)]


def _sparkline(card: Card) -> Image:
    data = sparkline_png(card.trend, target=card.figure.target, area=card.area or "general")
    return Image(io.BytesIO(data), width=40 * mm, height=10 * mm)


def _card(card: Card, styles: dict[str, ParagraphStyle], previous: str) -> list[Flowable]:
    figure = card.figure
    verdict = {True: "met", False: "missed", None: "no verdict"}[figure.met]
    colour = {True: OK, False: BAD, None: MUTED}[figure.met]
    change = f"{figure.change_text} on {previous}" if figure.change is not None else "no change to show"
    return [
        Paragraph(f"{escape(figure.label)}<super>{card.source}</super>", styles["card_title"]),
        Paragraph(
            f'<font color="{colour.hexval()}">{escape(figure.text())}</font>'
            f' <font size="8" color="{colour.hexval()}">{verdict}</font>',
            styles["card_value"],
        ),
        _p(f"target {figure.target_text or '—'} · {figure.sample_text or 'n not counted'}", styles["small"]),
        _p(change, styles["small"]),
        _sparkline(card),
        _p(" – ".join(card.trend_labels[:1] + card.trend_labels[-1:]), styles["tiny"]),
    ]


def _finding(finding: Finding, styles: dict[str, ParagraphStyle]) -> Paragraph:
    text = f"{escape(finding.text)}<super>{finding.source}</super>"
    if finding.recommendation:
        text += f"<br/><b>What to do:</b> {escape(finding.recommendation)}"
    return Paragraph(text, styles["finding"], bulletText="•")


def _summary_page(document: Document, section: Section, styles: dict[str, ParagraphStyle]) -> Flowable:
    """Page 1 as one frame: if a long recommendation would push it over, the page shrinks rather than split."""
    previous = document.previous_label.split(" (")[0]
    parts: list[Flowable] = [
        _p(document.title, styles["title"]),
        _p(f"{document.period_label} · compared with {document.previous_label}", styles["subtitle"]),
        _p(f"Generated {document.generated_at} · times in {document.time_zone}", styles["subtitle"]),
        *([_p(document.filters_note, styles["subtitle"])] if document.filters else []),
        Spacer(1, 3 * mm),
        _p(section.title, styles["h1"]),
        *(_p(paragraph, styles["body"]) for paragraph in section.paragraphs),
    ]
    cells = [_card(card, styles, previous) for card in section.cards]
    if cells:
        rows = [cells[i : i + 2] + ([[]] if len(cells[i : i + 2]) == 1 else []) for i in range(0, len(cells), 2)]
        grid = Grid(rows, colWidths=[TEXT_WIDTH / 2, TEXT_WIDTH / 2], hAlign="LEFT")
        grid.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.25, colors.HexColor("#dfe3ea")),
                    ("INNERGRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dfe3ea")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        parts.append(grid)
    for kind, heading in (("win", "Wins"), ("risk", "Risks and what to do")):
        found = [f for f in section.findings if f.kind == kind]
        parts.append(_p(heading, styles["h2"]))
        parts += [_finding(f, styles) for f in found] or [_p("None this period.", styles["small"])]
    if section.sources:
        parts.append(_p("Where this comes from", styles["h3"]))
        parts += [
            Paragraph(f"<super>{i}</super> {escape(note)}", styles["tiny"])
            for i, note in enumerate(section.sources, start=1)
        ]
        parts.append(_p("Definitions: the glossary at the end of this report.", styles["tiny"]))
    return KeepInFrame(TEXT_WIDTH, 250 * mm, parts, mode="shrink")


def _section(section: Section, styles: dict[str, ParagraphStyle], charts: ChartsAhead) -> list[Flowable]:
    story: list[Flowable] = [CondPageBreak(SECTION_ROOM), _p(section.title, styles["h1"])]
    for paragraph in section.paragraphs:
        story.append(_p(paragraph, styles["lead"]))
    if section.figures:
        rows = [
            [
                f.label,
                f.text(),
                f.sample_text or "—",
                f.text(f.previous) if f.previous is not None else "—",
                f.change_text,
                f.target_text or "—",
                {True: "met", False: "missed", None: "—"}[f.met],
            ]
            for f in section.figures
        ]
        table = _table(
            ["Figure", "Value", "Sample", "Previous", "Change", "Target", "Status"],
            rows,
            styles,
            # The sample ("n = 1,378 · 4 pending · to date") wide enough to keep each row to two lines.
            [49 * mm, 17 * mm, 34 * mm, 17 * mm, 18 * mm, 20 * mm, 13 * mm],
        )
        for i, figure in enumerate(section.figures, start=1):
            if figure.met is not None:
                table.setStyle(TableStyle([("TEXTCOLOR", (6, i), (6, i), OK if figure.met else BAD)]))
        story.append(table)
        story.append(Spacer(1, 4 * mm))
    # A pie fills no more than half the text width: pies go two abreast with the small multiples.
    small = [chart for chart in section.charts if _half_width(chart)]
    for chart in section.charts:
        if not _half_width(chart):
            story.append(_chart(chart, styles, charts))
    for i in range(0, len(small), 2):
        pair = [_chart_parts(chart, styles, charts) for chart in small[i : i + 2]]
        grid = Grid([pair + [[]] * (2 - len(pair))], colWidths=[TEXT_WIDTH / 2] * 2, hAlign="LEFT")
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story.append(grid)
    for table_data in section.tables:
        story += _table_block(table_data, styles)
    return story


def _table_block(table: Table, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    parts: list[Flowable] = [_p(table.title, styles["h2"])]
    if table.rows:
        parts.append(_table(table.columns, table.rows, styles))
        if len(table.rows) > MAX_TABLE_ROWS:
            parts.append(
                _p(
                    f"The first {MAX_TABLE_ROWS} of {len(table.rows):,} rows; the XLSX and the CSV have them all.",
                    styles["small"],
                )
            )
    else:
        parts.append(_p("Nothing in this period.", styles["small"]))
    if table.note:
        parts.append(_p(table.note, styles["small"]))
    parts.append(Spacer(1, 3 * mm))
    # A short table stays on one page with its title; a longer one starts where its title and first rows fit and
    # flows on, its header repeated, rather than leave the rest of the page empty.
    return [KeepTogether(parts)] if len(table.rows) <= SHORT_TABLE_ROWS else [CondPageBreak(TABLE_ROOM), *parts]


def _appendix_index(document: Document, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The last page: what the XLSX's appendix sheets and the CSV hold, for the analysts who want the rows."""
    names = sheet_names(document)
    titles = [table.title.removeprefix("Appendix: ") for table in document.appendices]
    rows = [
        # Capitalised as its sheet's name is, so that the two columns read alike.
        [title[:1].upper() + title[1:], names[table.key], f"{len(table.rows):,}", ", ".join(table.columns)]
        for title, table in zip(titles, document.appendices, strict=True)
    ]
    return [
        _p("Appendices: the data behind this report", styles["h1"]),
        _p(
            "The raw daily rows are not printed here: they are in the XLSX download, one sheet per table with "
            "dates as dates, and in the CSV download, one value per line. Every section's figures and tables are "
            "in both as well.",
            styles["body"],
        ),
        _table(["Appendix", "XLSX sheet", "Rows", "Columns"], rows, styles, [46 * mm, 34 * mm, 14 * mm, 74 * mm]),
    ]


def _glossary_entry(term: str, definition: str) -> str:
    """The term in bold, then its definition; a definition that opens with the term ("NPS = % of 9–10 …") has it
    set in bold once rather than printed twice ("NPS: NPS = …")."""
    rest = definition.removeprefix(term)
    if rest != definition and rest[:1] in (":", " "):
        return f"<b>{escape(term)}</b>{escape(rest)}"
    return f"<b>{escape(term)}</b>: {escape(definition)}"


def render_pdf(document: Document, charts: ChartsAhead | None = None) -> bytes:
    """The report as a PDF; `charts` holds the charts already drawn while the document was built, if any."""
    if charts is None:
        with ChartsAhead() as own:
            return render_pdf(document, own)
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
    story: list[Flowable] = []
    summary = document.section("summary")
    if summary is not None:
        story += [_summary_page(document, summary, styles), PageBreak()]
    else:
        story += [_p(document.title, styles["title"]), _p(document.period_label, styles["subtitle"])]
        if document.filters:
            story.append(_p(document.filters_note, styles["subtitle"]))
    for index, section in enumerate(s for s in document.sections if s.key != "summary"):
        # Sections follow on from one another: a page break would leave the end of a page empty.
        if index:
            story.append(Spacer(1, 6 * mm))
        story += _section(section, styles, charts)
    story += [PageBreak(), _p("Glossary", styles["h1"])]
    for term, definition in document.glossary:
        story.append(Paragraph(_glossary_entry(term, definition), styles["body"]))
    story += [PageBreak(), *_appendix_index(document, styles)]
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
