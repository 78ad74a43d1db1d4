"""The quarterly PDF as a reader sees it: the pages rendered to images with poppler's pdftoppm and the words read
back with their boxes (pdftotext -bbox). No word runs outside its page, nothing is drawn in the paper's edge, the
executive summary is the whole of page 1, the body stays short, and the raw tables are indexed, not printed.

Also: a running quarter says so in every label, and the XLSX holds one sheet per appendix with dates as dates.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import threading
from datetime import date
from html import unescape
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook
from PIL import Image
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

from reports.render import pdf as pdf_module
from reports.render.pdf import FONT_DIR, FONT_FILES, ChartsAhead, _aligned, render_pdf
from reports.render.sheets import render_xlsx, sheet_names
from reports.sections import build_document
from saypro import periods

from .conftest import NOW, local

pytestmark = pytest.mark.django_db

Q1 = periods.from_slug("2026-Q1")
# The paper's edge where a printer cannot print: nothing may be drawn there (points; 5 mm).
EDGE = 14.0
POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext")
# Skipped only on a machine where make test could not install poppler (not root); CI always runs them.
needs_poppler = pytest.mark.skipif(
    not POPPLER and not os.environ.get("CI"),
    reason="poppler-utils (pdftoppm, pdftotext) is installed by .ci/run and make test",
)

_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_WORD = re.compile(r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">(.*?)</word>')


def pages_words(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: its width and height in points and its words with their boxes."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [
        (
            float(width),
            float(height),
            [(float(a), float(b), float(c), float(d), unescape(w)) for a, b, c, d, w in _WORD.findall(body)],
        )
        for width, height, body in _PAGE.findall(html)
    ]


def page_text(words: list[tuple[float, float, float, float, str]]) -> str:
    return " ".join(w for *_, w in words)


@pytest.fixture
def quarter_report(quarter_data, area_quarter):
    with time_machine.travel(NOW, tick=False):
        return build_document(kind="quarterly", period=Q1, now=NOW)


def test_a_table_sets_the_cells_that_fit_as_text_and_wraps_the_others():
    """Line-breaking each number as a paragraph was most of a PDF's time: only a cell too wide for its column is
    a paragraph, which wraps it inside the column."""
    sentence = "A note long enough that no column of a page this wide could hold it on a single line of text " * 2
    pdf_module._fonts()
    table = pdf_module._table(["Figure", "Value", "Note"], [["Failed sign-ins", 12, sentence]], pdf_module._styles())
    head, row = table._cellvalues
    assert head == ["Figure", "Value", "Note"]
    assert row[:2] == ["Failed sign-ins", "12"]
    assert isinstance(row[2], Paragraph) and row[2].getPlainText() == sentence.strip()
    assert len(row[2].breakLines([table._colWidths[2] - 2 * pdf_module.CELL_PADDING]).lines) > 1


@needs_poppler
def test_the_pdf_pages_keep_their_text_inside_and_page_one_is_the_summary(quarter_report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(quarter_report))
    pages = pages_words(pdf)
    # The main body, up to the glossary, stays under about 20 pages.
    glossary = next(i for i, (*_, words) in enumerate(pages) if page_text(words).startswith("Glossary"))
    assert 3 <= glossary <= 20
    for number, (width, height, words) in enumerate(pages, start=1):
        assert words, f"page {number} is empty"
        for x0, y0, x1, y1, word in words:
            assert x0 >= EDGE and x1 <= width - EDGE and y0 >= EDGE and y1 <= height - EDGE, (number, word)

    # Page 1: the whole summary, from the title to its footnotes; the targets' detail starts on page 2.
    first = page_text(pages[0][2])
    summary = quarter_report.section("summary")
    assert summary is not None and summary.cards and summary.findings
    assert "Executive summary" in first and "Where this comes from" in first
    assert "Definitions: the glossary" in first
    for card in summary.cards:
        assert " ".join(card.figure.label.split()[:2]) in first
    for finding in summary.findings:
        # Words of each sentence, as pdftotext splits them.
        assert " ".join(finding.text.split()[:3]) in first
    assert "[" not in first
    assert page_text(pages[1][2]).startswith("Targets met and missed")
    # The last page indexes the appendices; their rows are in the XLSX and the CSV.
    last = page_text(pages[-1][2])
    assert "Appendices: the data behind this report" in last
    assert "SLA clocks per day" in last and "Sign-ups per day" in last
    everything = " ".join(page_text(words) for *_, words in pages)
    assert "Appendix: SLA clocks per day" not in everything
    # A glossary term its definition opens with is printed once.
    assert "NPS = % promoters" in everything and "NPS: NPS" not in everything
    assert "Retention: N-week cohorts" in everything and "Retention: Retention" not in everything


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def test_every_sign_of_the_report_is_in_the_pdf_typeface(quarter_report):
    """A character the typeface lacks prints as an empty box: the arrow of "started the form → submitted" did."""
    texts = _strings(quarter_report.as_dict())
    assert any("→" in text for text in texts)
    for name, filename in FONT_FILES.items():
        glyphs = TTFont(name, str(FONT_DIR / filename)).face.charToGlyph
        missing = {char for text in texts for char in text if char.isprintable() and ord(char) not in glyphs}
        assert not missing, (name, sorted(missing))


def test_a_table_column_keeps_one_number_of_decimals_and_prints_a_true_minus():
    rows = [["South Africa", 34.0, 2.9, 4.64, 757], ["Egypt", 9.6, -1.25, 4.0, -3]]
    assert _aligned(rows) == [
        ["South Africa", "34.0", "2.90", "4.64", "757"],
        ["Egypt", "9.6", "−1.25", "4.00", "−3"],
    ]


@needs_poppler
def test_the_rendered_pages_leave_the_paper_edge_blank(quarter_report, tmp_path):
    """Charts, cards and tables as pixels: nothing in the outer 5 mm of any page (a legend or a label that ran
    off its frame would)."""
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(quarter_report))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert images
    for path in images:
        with Image.open(path) as image:
            grey = image.convert("L")
            width, height = grey.size
            band = round(EDGE / 72 * 40)
            for box in (
                (0, 0, width, band),
                (0, height - band, width, height),
                (0, 0, band, height),
                (width - band, 0, width, height),
            ):
                darkest, _ = grey.crop(box).getextrema()
                assert darkest > 245, f"{path.name}: ink at the edge {box}"


def test_a_running_quarter_says_to_date_and_is_compared_over_the_same_span():
    now = local(2026, 12, 6, 10, 0)
    quarter = periods.current(periods.QUARTER, now)
    assert periods.label_at(quarter, now) == "Q4 2026 to date (1 Oct – 6 Dec)"
    # 1 Oct to 6 Dec 10:00 is 66 days and 10 hours; the same from 1 July ends on 5 September.
    assert periods.compared_label(quarter, now) == "Q3 2026, same span (1 Jul – 5 Sep)"
    # A finished quarter keeps its plain label.
    last = quarter.previous()
    assert periods.label_at(last, now) == last.label == "Q3 2026 (01 Jul – 30 Sep 2026)"
    assert periods.compared_label(last, now) == "Q2 2026 (01 Apr – 30 Jun 2026)"


def test_a_report_of_a_running_quarter_is_labelled_to_date(quarter_data):
    now = local(2026, 3, 6, 12, 0)
    with time_machine.travel(now, tick=False):
        document = build_document(kind="quarterly", period=Q1, now=now)
    assert document.period_label == "Q1 2026 to date (1 Jan – 6 Mar)"
    # 1 January to 6 March noon is 64½ days; from 1 October that ends on 4 December at noon.
    assert document.previous_label == "Q4 2025, same span (1 Oct – 4 Dec)"
    summary = document.section("summary")
    assert summary is not None
    assert "Q1 2026 is still running" in summary.paragraphs[0]


def test_the_xlsx_holds_each_appendix_on_a_sheet_named_whole_with_dates_as_dates(quarter_report):
    workbook = load_workbook(io.BytesIO(render_xlsx(quarter_report)))
    names = sheet_names(quarter_report)
    for appendix in quarter_report.appendices:
        name = names[appendix.key]
        assert name in workbook.sheetnames and len(name) <= 31
        assert not name.startswith("Appendix") and "(" not in name
        sheet = workbook[name]
        assert [c.value for c in sheet[2]] == appendix.columns
        if appendix.rows:
            assert isinstance(sheet.cell(row=3, column=1).value, date)
    # Section sheets read whole too: the part before a colon where the title is too long.
    assert names["section:compliance"] == "The four promises"
    assert names["section:improvements"] == "Improvements made this period"
    assert names["raw_sla_daily"] == "SLA clocks per day"
    assert names["raw_registrations_daily"] == "Sign-ups per day"
    registrations = workbook[names["raw_registrations_daily"]]
    assert [c.value for c in registrations[2]][:3] == ["Day", "Started", "E-mail verified"]


def test_the_trends_set_each_promise_figure_beside_the_last_four_quarters(quarter_report):
    trends = quarter_report.section("trends")
    assert trends is not None
    table = trends.tables[0]
    assert table.columns == [
        "Figure",
        "Q1 2025",
        "Q2 2025",
        "Q3 2025",
        "Q4 2025",
        "Q1 2026",
        "n (latest)",
        "Target (latest)",
    ]
    rows = {row[0]: row for row in table.rows}
    # R7 (December, decided in 5 h) is Q4 2025's only registration; Q1 2026 is the report's own figure.
    headline = rows["Approved registrations approved within 48 h of submission"]
    summary = quarter_report.section("summary")
    assert summary is not None
    card = next(c for c in summary.cards if c.figure.key == "registrations.approved_48h")
    assert headline[1:6] == ["—", "—", "—", "100.0 %", card.figure.text()]
    assert headline[6:] == [card.figure.n, "≥ 100 %"]
    assert card.trend == [None, None, None, 100.0, card.figure.value]
    # One chart per promise, its headline with the target line.
    assert [c.target for c in trends.charts] == [100.0, 90.0, 95.0, 100.0]
    assert all(c.kind == "line" and len(c.labels) == 5 for c in trends.charts)


def test_the_charts_are_drawn_in_their_own_thread_while_the_sections_are_built_each_once(
    quarter_data, area_quarter, monkeypatch
):
    """Report generation hands each built section's charts to a drawing thread (ChartsAhead); the PDF then takes
    those images and draws none of them again on the thread that reads the figures."""
    drawn: list[tuple[str, str]] = []
    draw = pdf_module._png

    def counted(chart):
        drawn.append((chart.key, threading.current_thread().name))
        return draw(chart)

    monkeypatch.setattr(pdf_module, "_png", counted)
    with time_machine.travel(NOW, tick=False), ChartsAhead() as charts:
        document = build_document(kind="quarterly", period=Q1, now=NOW, section_built=charts.section_built)
        pdf = render_pdf(document, charts)
    assert pdf.startswith(b"%PDF")
    keys = [key for key, _ in drawn]
    with_data = [c.key for s in document.sections for c in s.charts if pdf_module._drawn(c)]
    assert len(with_data) > 10 and sorted(keys) == sorted(with_data)
    assert {thread for _, thread in drawn} == {"pdf-charts_0"}
