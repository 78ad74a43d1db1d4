"""The executive summary and the recommendations are written by rules from the figures, in plain sentences.

Four sign-ups submitted at 09:10 on Monday 2 March 2026 (local); two decided at 10:10, two never. Their 48-hour
deadlines fall in that week: 2 met, 2 breached, 50 %. At 09:00–10:00, 4 items arrived in 7 days (0.57 a day)
and none was decided; at one item per staff-hour that is 0.57 staff-hours a day more.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports.sections import build_document
from saypro import periods
from saypro.figures.registry import figure_spec

from .conftest import local, signup

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 10, 12, 0)
WEEK = periods.containing(periods.WEEK, date(2026, 3, 2))


@pytest.fixture
def week(settings):
    settings.REPORTS_ITEMS_PER_STAFF_HOUR = 1
    for decided in (1, 1, None, None):
        signup(local(2026, 3, 2, 9, 0), decided_after_hours=decided)
    with time_machine.travel(NOW, tick=False):
        return build_document(kind="weekly", period=WEEK, now=NOW)


def test_the_summary_shows_the_registration_promise_as_a_card_and_a_risk(week):
    summary = week.section("summary")
    assert summary is not None
    card = next(c for c in summary.cards if c.figure.key == "registrations.approved_48h")
    # Two approved after an hour, two undecided past 48 h: half of them in time.
    assert (card.figure.text(), card.figure.n, card.figure.target_text, card.figure.met) == (
        "50.0 %",
        4,
        "≥ 100 %",
        False,
    )
    risk = next(f for f in summary.findings if f.figure_key == "registrations.approved_48h")
    assert risk.kind == "risk"
    assert risk.text == (
        "Approved registrations approved within 48 h of submission: 50.0 % (n = 4), missing the target of ≥ 100 %."
    )
    assert risk.recommendation.startswith("Add about 0.6 staff-hours a day")
    assert summary.sources[risk.source - 1].startswith("Registrations: Approved registrations approved within 48 h")
    assert {f.key: f.value for f in summary.figures}["summary.targets_missed"] >= 2


def test_staff_hours_are_recommended_where_arrivals_outrun_decisions(week):
    recommendations = week.section("recommendations")
    assert recommendations is not None
    # The advice names the figure it rests on, the promise's headline, not the promise's own title.
    title = "Approved registrations approved within 48 h of submission"
    table = next(t for t in recommendations.tables if t.key == "recommendations")
    text = next(row[0] for row in table.rows if title in row[0])
    assert text.startswith(f"Add about 0.6 staff-hours a day to “{title}” at 09:00–10:00")
    assert "0.6 items arrive a day and 0.0 are decided" in text
    assert "[" not in text
    assert table.rows[0][1:4] == [
        "Registrations",
        "Approved registrations approved within 48 h of submission",
        "50.0 %",
    ]


def test_the_glossary_holds_the_definitions_word_for_word(week):
    glossary = dict(week.glossary)
    # Each promise's achievement is a registered figure, defined once for all four.
    assert glossary["Flagged content decided within 12 h, by deadline date"].startswith(
        "SLA achievement = achieved ÷ (achieved + breached), per deadline date: achieved = decided within 12 h; "
        "breached = stopped late, or still open past the deadline; an item still open inside its deadline is left "
        "out until it passes."
    )
    assert glossary["At risk"] == "At risk = open with more than 75 % of its target elapsed."
    # Churn is a registered figure: its definition, then the population it is counted over.
    assert glossary["Churn"].startswith("Churn(P) = users active in P−1 and not in P ÷ users active in P−1, ")
    # NPS is a registered figure: its definition, then the answers it is counted over.
    nps = figure_spec("support.nps")
    assert glossary[nps.label].startswith("NPS = % promoters (answers of 9–10")
    assert "Counted over answers to the NPS question given in the period" in glossary[nps.label]
    # Every registered figure's definition, written from the registry.
    headline = figure_spec("registrations.approved_48h")
    assert glossary[headline.label].startswith(headline.definition)
    assert "placed in a period by the day the registration was submitted" in glossary[headline.label]
