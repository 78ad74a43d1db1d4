"""The executive summary and the recommendations are written by rules from the figures, each citing its figure.

Four sign-ups submitted at 09:10 on Monday 2 March 2026 (local); two decided at 10:10, two never. Their 48-hour
deadlines fall in that week: 2 met, 2 breached, 50 %. At 09:00–10:00, 4 items arrived in 7 days (0.57 a day)
and none was decided; at one item per staff-hour that is 0.57 staff-hours a day more.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports import periods
from reports.sections import build_document

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


def test_the_summary_states_each_promise_against_its_target_and_cites_it(week):
    summary = week.section("summary")
    assert summary is not None
    finding = next(p for p in summary.paragraphs if p.startswith("Registrations approved within 48 h"))
    assert finding == (
        "Registrations approved within 48 h: 50.0 % against the target of ≥ 100 % (missed). "
        "[The four promises: SLA compliance: Registrations approved within 48 h = 50.0 %]"
    )
    missed = next(p for p in summary.paragraphs if p.startswith("Targets missed"))
    assert "Share approved within 48 h at 50.0 %" in missed
    assert {f.key: f.value for f in summary.figures}["summary.targets_missed"] >= 2


def test_staff_hours_are_recommended_where_arrivals_outrun_decisions(week):
    recommendations = week.section("recommendations")
    assert recommendations is not None
    text = next(p for p in recommendations.paragraphs if "Registrations approved within 48 h" in p)
    assert text.startswith("Add about 0.6 staff-hours a day to “Registrations approved within 48 h” at 09:00–10:00")
    assert "0.6 items arrive a day and 0.0 are decided" in text
    assert text.endswith("[The four promises: SLA compliance: Registrations approved within 48 h = 50.0 %]")
    table = next(t for t in recommendations.tables if t.key == "recommendations")
    assert table.rows[0][1:] == ["Registrations approved within 48 h", "50.0 %"]


def test_the_glossary_holds_the_definitions_word_for_word(week):
    glossary = dict(week.glossary)
    assert glossary["SLA achievement"] == (
        "SLA achievement = achieved ÷ (achieved + breached), per deadline date; an item still open past its "
        "deadline counts as breached; one still open inside its deadline is left out."
    )
    assert glossary["At risk"] == "At risk = open with more than 75 % of its target elapsed."
    assert glossary["Churn"] == "Churn(P) = users active in P−1 and not in P ÷ users active in P−1."
    assert glossary["NPS"] == "NPS = % of 9–10 minus % of 0–6, with the response count."
