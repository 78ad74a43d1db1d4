"""The CSV carries every registered figure of the report with its value, n and target as the registry reads them,
and the messaging stretch target (95 % within 24 h by the quarter's end) in every kind of report."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from reports.render.sheets import render_csv
from reports.sections import build_document
from saypro import periods
from saypro.figures.registry import figure_read, figure_specs

from .test_figure_consistency import NOW, Q1, world  # noqa: F401

pytestmark = pytest.mark.django_db


def _rows(document) -> list[list[str]]:
    return list(csv.reader(io.StringIO(render_csv(document).decode())))[1:]


def _figure_rows(rows: list[list[str]]) -> dict[tuple[str, str], str]:
    return {(row[2], row[3]): row[4] for row in rows if row[1] == "figures"}


def _number(value: float | None) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("kind", "period"),
    [("quarterly", Q1), ("monthly", periods.containing(periods.MONTH, NOW.date()))],
)
def test_csv_figure_rows_match_the_registry(world, kind, period):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        document = build_document(kind=kind, period=period, now=NOW)
        readings = {
            spec.key: figure_read(spec.key, period, now=NOW)
            for spec in figure_specs()
            if not spec.kinds or period.kind in spec.kinds
        }
    rows = _rows(document)
    figures = _figure_rows(rows)
    keys = {key for key, _ in figures}
    assert set(readings) <= keys
    for key, reading in readings.items():
        current = reading.current
        assert figures[(key, "value")] == _number(current.value), key
        assert figures[(key, "n")] == str(current.n), key
        assert figures[(key, "target")] == _number(current.target), key
        if current.target is not None:
            assert figures[(key, "target_text")], key
    # The stretch target beside the 90 % target, whatever the report's period.
    first_response = {
        row[3]: row[4] for row in rows if row[1] == "messaging_first_response" and row[2] == "All categories"
    }
    assert (first_response["Target %"], first_response["Stretch target %"]) == ("90.0", "95.0")
    if kind == "quarterly":
        assert figures[("messaging.first_response_24h.closing", "target")] == "95.0"
        assert figures[("messaging.first_response_24h.closing", "target_text")] == "≥ 95 %"
