"""Every figure a report section shows is a registry reading (the same value, n and comparison as figure_read),
except those still listed below as the sections' own. A new figure computed in a section builder fails here until
it is declared in its domain's figures.py."""

from __future__ import annotations

import pytest
import time_machine

from reports.sections import build_document
from saypro.figures.registry import figure_read, figure_specs

from .test_figure_consistency import NOW, Q1, world  # noqa: F401

pytestmark = pytest.mark.django_db

# Figures the sections still compute themselves, to move into the registry: the list only shrinks.
SECTION_OWN = {
    "comment_topics.comments",
    "messaging.backlog",
    "messaging.conversation_first_response_average",
    "messaging.first_response_median",
    "messaging.first_response_p90",
    "messaging.inbound",
    "messaging.outbound",
    "messaging.team_replies",
    "messaging.user_messages",
    "support.deflection_rate",
    "support.first_response_median",
    "support.first_response_p90",
    "support.misroute_rate",
    "support.nps",
}


def test_every_section_figure_is_a_registry_reading(world):  # noqa: F811
    registered = {spec.key for spec in figure_specs()}
    with time_machine.travel(NOW, tick=False):
        document = build_document(kind="quarterly", period=Q1, now=NOW)
    own = set()
    for section in document.sections:
        if section.key in ("summary", "scorecard", "recommendations"):
            continue
        for figure in section.figures:
            if figure.key not in registered:
                own.add(figure.key)
                continue
            reading = figure_read(figure.key, Q1, now=NOW)
            previous = reading.previous.value if reading.previous else None
            shown = (figure.value, figure.n, figure.previous)
            assert shown == (reading.current.value, reading.current.n, previous), figure.key
    # A figure moved into the registry leaves the list; a new one computed in a builder fails here.
    assert sorted(own) == sorted(SECTION_OWN)
