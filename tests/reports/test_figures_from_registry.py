"""Every figure a report section shows is a registry reading (the same value, n and comparison as figure_read): a
figure computed in a section builder fails here until it is declared in its domain's figures module."""

from __future__ import annotations

import pytest
import time_machine

from reports.sections import build_document
from saypro.figures.registry import figure_read, figure_specs

from .test_figure_consistency import NOW, Q1, world  # noqa: F401

pytestmark = pytest.mark.django_db


def test_every_section_figure_is_a_registry_reading(world):  # noqa: F811
    registered = {spec.key for spec in figure_specs()}
    with time_machine.travel(NOW, tick=False):
        document = build_document(kind="quarterly", period=Q1, now=NOW)
    own = []
    for section in document.sections:
        if section.key in ("summary", "scorecard", "recommendations"):
            continue
        for figure in section.figures:
            if figure.key not in registered:
                own.append(figure.key)
                continue
            reading = figure_read(figure.key, Q1, now=NOW)
            previous = reading.previous.value if reading.previous else None
            shown = (figure.value, figure.n, figure.previous)
            assert shown == (reading.current.value, reading.current.n, previous), figure.key
    assert own == []
