"""XLSX (one sheet per section, then one per raw-data appendix, days as dates) and CSV (every figure and table
row, long form).

A cell that starts with = + - @ (or a tab or carriage return) would run as a formula in a spreadsheet: it is
written as text behind a leading apostrophe, in both formats.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ..document import Document, Section, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="2350C8")
HEADER_FONT = Font(bold=True, color="FFFFFF")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A spreadsheet cuts sheet names at 31 characters.
SHEET_NAME_MAX = 31


def safe(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _whole(title: str, width: int) -> str:
    """The title within `width` characters, cut at a word (never inside one)."""
    if len(title) <= width:
        return title
    words, out = title.split(), ""
    for word in words:
        if len(out) + len(word) + (1 if out else 0) > width:
            break
        out = f"{out} {word}" if out else word
    return out or title[:width]


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name that reads whole: a title too long for a spreadsheet's 31 characters keeps what comes before
    its colon ("The four promises"), or its first words; a name already taken gets a number."""
    if len(title) > SHEET_NAME_MAX and ":" in title:
        title = title.split(":", 1)[0]
    base = _whole(" ".join(_BAD_TITLE.sub(" ", title).split()), SHEET_NAME_MAX) or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        name = f"{_whole(base, SHEET_NAME_MAX - len(str(n)) - 1)} {n}"
        n += 1
    used.add(name.lower())
    return name


def _write_table(ws: Any, table: Table, row: int) -> int:
    ws.cell(row=row, column=1, value=safe(table.title)).font = Font(bold=True, size=12)
    row += 1
    for col, name in enumerate(table.columns, start=1):
        cell = ws.cell(row=row, column=col, value=safe(name))
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    for values in table.rows:
        row += 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=safe(value))
            # Days travel through the stored document as ISO text; the sheet holds them as dates.
            if isinstance(value, str) and _ISO_DAY.match(value):
                cell.value, cell.number_format = date.fromisoformat(value), "yyyy-mm-dd"
    if table.note:
        row += 1
        ws.cell(row=row, column=1, value=safe(table.note)).font = Font(italic=True, color="5D6878")
    return row + 2


def _section_sheet(ws: Any, section: Section) -> None:
    ws.cell(row=1, column=1, value=safe(section.title)).font = Font(bold=True, size=14)
    row = 2
    for paragraph in section.paragraphs:
        ws.cell(row=row, column=1, value=safe(paragraph))
        row += 1
    row += 1
    if section.figures:
        figures = Table(
            "figures",
            "Figures",
            ["Key", "Figure", "Value", "Unit", "n", "Pending", "Previous", "Change", "Target", "Met", "Note"],
            [
                [
                    f.key,
                    f.label,
                    f.value,
                    f.unit,
                    f.n,
                    f.pending,
                    f.previous,
                    f.change,
                    f.target_text,
                    f.met,
                    f"{f.note} ({f.sample_text})" if f.note and f.sample_text else f.note or f.sample_text,
                ]
                for f in section.figures
            ],
        )
        row = _write_table(ws, figures, row)
    for chart in section.charts:
        row = _write_table(ws, _chart_table(chart), row)
    for table in section.tables:
        row = _write_table(ws, table, row)
    ws.column_dimensions["A"].width = 42
    for col in range(2, 12):
        ws.column_dimensions[get_column_letter(col)].width = 16


def sheet_names(document: Document) -> dict[str, str]:
    """Every sheet's name, keyed "about", "section:<key>" and the appendices' keys. An appendix's is its title
    without "Appendix:" and without the note in brackets (the sheet's heading keeps it), so that the name reads
    whole within a spreadsheet's 31 characters."""
    used: set[str] = set()
    names = {"about": _sheet_title("About", used)}
    for section in document.sections:
        names[f"section:{section.key}"] = _sheet_title(section.title, used)
    for appendix in document.appendices:
        title = re.sub(r"\s*\(.*\)$", "", appendix.title.removeprefix("Appendix: "))
        names[appendix.key] = _sheet_title(title[:1].upper() + title[1:], used)
    return names


def render_xlsx(document: Document) -> bytes:
    workbook = Workbook()
    names = sheet_names(document)
    first = workbook.active
    assert first is not None
    first.title = names["about"]
    for row, (label, value) in enumerate(
        [
            ("Report", document.title),
            ("Period", document.period_label),
            ("Compared with", document.previous_label),
            ("Generated", document.generated_at),
            ("Time zone", document.time_zone),
            ("Filters", document.filters_note or "None: the whole marketplace"),
        ],
        start=1,
    ):
        first.cell(row=row, column=1, value=label).font = Font(bold=True)
        first.cell(row=row, column=2, value=safe(value))
    glossary_row = 8
    first.cell(row=glossary_row, column=1, value="Glossary").font = Font(bold=True, size=12)
    for offset, (term, definition) in enumerate(document.glossary, start=1):
        first.cell(row=glossary_row + offset, column=1, value=safe(term)).font = Font(bold=True)
        first.cell(row=glossary_row + offset, column=2, value=safe(definition))
    first.column_dimensions["A"].width = 28
    first.column_dimensions["B"].width = 120
    for section in document.sections:
        _section_sheet(workbook.create_sheet(names[f"section:{section.key}"]), section)
    for appendix in document.appendices:
        ws = workbook.create_sheet(names[appendix.key])
        _write_table(ws, appendix, 1)
        ws.freeze_panes = "A3"
        ws.column_dimensions["A"].width = 12
        for col in range(2, len(appendix.columns) + 1):
            ws.column_dimensions[get_column_letter(col)].width = max(12, len(appendix.columns[col - 1]) + 2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_csv(document: Document) -> bytes:
    """Long form, one value per line: section, table, row label, column, value — easy to load anywhere."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "table", "row", "column", "value"])
    for name, value in document.filters.items():
        writer.writerow(["report", "filters", safe(name), "value", safe(value)])
    for section in document.sections:
        for f in section.figures:
            for column, value in (
                ("value", f.value),
                ("n", f.n),
                ("pending", f.pending),
                ("previous", f.previous),
                ("change", f.change),
                ("target", f.target),
                ("target_text", safe(f.target_text)),
                ("met", f.met),
                *([("not_split_by", " ".join(f.not_split_by))] if f.not_split_by else []),
            ):
                writer.writerow([safe(section.key), "figures", safe(f.key), column, "" if value is None else value])
        for table in [*section.tables, *[_chart_table(c) for c in section.charts]]:
            _csv_table(writer, section.key, table)
    for appendix in document.appendices:
        _csv_table(writer, "appendix", appendix)
    return buffer.getvalue().encode("utf-8")


def _chart_table(chart: Any) -> Table:
    return Table(
        chart.key,
        f"Chart data: {chart.title}",
        ["", *[s.name for s in chart.series]],
        [[label, *[s.values[i] for s in chart.series]] for i, label in enumerate(chart.labels)],
    )


def _csv_table(writer: Any, section: str, table: Table) -> None:
    for index, values in enumerate(table.rows):
        label = values[0] if values else index
        for column, value in zip(table.columns[1:], values[1:], strict=False):
            writer.writerow(
                [safe(section), safe(table.key), safe(str(label)), safe(column), "" if value is None else safe(value)]
            )
