"""Page 1 of a report, on hand-built figures: the promises as cards, each target counted once, at most three wins
and three risks in plain sentences, each risk with its own recommendation, and sources as footnotes.

The figures (Q1 2026, read on 2 April 2026, nothing in the database):
  promise headlines   registrations 90 % vs ≥ 100 % (missed), messaging 97 % vs ≥ 95 % (met, was 90 %),
                      support 96 % vs ≥ 95 % (met, was 95.5 %), moderation 70 % vs ≥ 95 % (missed)
  the same promises again in the compliance section (their own figures, the SLA targets): not counted again
  registrations.team_time_48h 99 % vs ≥ 100 % (missed); moderation.recurrence_rate 0.4 % vs under 0.5 % (met);
  support.csat_average 4.6 vs ≥ 4.5 (met, was 4.0); support.platform_issue_rate 3.5 % vs under 3 % (missed),
  shown twice (in support and in moderation) with one target; messaging.volume 9,000 vs ≥ 12,000 (missed)
Targets: 4 headlines + team time + recurrence + CSAT + issue rate + volume = 9; met 4, missed 5.
"""

from __future__ import annotations

import pytest

from reports.document import PERCENT, SCORE, Figure, Section
from reports.sections import context_for
from reports.sections.summary import advise, counted_targets, executive_summary, recommendations
from saypro import periods

from .conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 4, 2, 12, 0)
QUARTER = periods.from_slug("2026-Q1")


def figure(key: str, label: str, value: float, target: float, *, previous: float | None = None, **kw) -> Figure:
    unit = kw.pop("unit", PERCENT)
    higher = kw.pop("higher_is_better", True)
    met = value >= target if higher else value < target
    word = "≥" if higher else "under"
    text = f"{word} {target:g}" + (" %" if unit == PERCENT else "")
    return Figure(
        key=key,
        label=label,
        value=value,
        unit=unit,
        previous=previous,
        target=target,
        target_text=text,
        higher_is_better=higher,
        n=kw.pop("n", 200),
        verdict=met,
        judged=True,
        target_key=kw.pop("target_key", key),
    )


def hand_built() -> list[Section]:
    issue_rate = figure(
        "support.platform_issue_rate", "Platform issue rate", 3.5, 3.0, higher_is_better=False, previous=3.4
    )
    return [
        Section(
            "compliance",
            "The four promises",
            figures=[
                figure(f"compliance.{metric}", metric, value, 95.0, target_key=f"sla.{metric}")
                for metric, value in (
                    ("registration.approval", 90.0),
                    ("message.first_response", 97.0),
                    ("ticket.resolution", 96.0),
                    ("moderation.decision", 70.0),
                )
            ],
        ),
        Section(
            "registrations",
            "Registrations",
            figures=[
                figure("registrations.approved_48h", "Registrations approved within 48 h", 90.0, 100.0, previous=92.0),
                figure("registrations.team_time_48h", "Approved within 48 h of team time", 99.0, 100.0),
            ],
        ),
        Section(
            "support",
            "Support",
            figures=[
                figure("support.resolved_24h", "Inquiries resolved within 24 h", 96.0, 95.0, previous=95.5),
                figure("support.csat_average", "Satisfaction (CSAT)", 4.6, 4.5, unit=SCORE, previous=4.0),
                issue_rate,
            ],
        ),
        Section(
            "messaging",
            "Messaging",
            figures=[
                figure("messaging.first_response_24h", "Messages answered within 24 h", 97.0, 95.0, previous=90.0),
                figure("messaging.volume", "Messages", 9_000, 12_000, unit="count", previous=8_000),
            ],
        ),
        Section(
            "moderation",
            "Moderation",
            figures=[
                figure("moderation.decided_12h", "Flagged content decided within 12 h", 70.0, 95.0, previous=80.0),
                figure(
                    "moderation.recurrence_rate", "Recurrence rate", 0.4, 0.5, higher_is_better=False, previous=0.45
                ),
                issue_rate,
            ],
        ),
    ]


@pytest.fixture
def page_one():
    sections = hand_built()
    ctx = context_for(QUARTER, NOW)
    advice = advise(sections, ctx)
    return executive_summary(sections, ctx, advice), recommendations(advice), sections


def test_each_target_is_counted_once(page_one):
    summary, _, sections = page_one
    counted = counted_targets(sections)
    assert len(counted) == 9
    assert not any(f.key.startswith("compliance.") for _, f in counted)
    figures = {f.key: f.value for f in summary.figures}
    assert figures == {"summary.targets_met": 4, "summary.targets_missed": 5}
    assert summary.paragraphs[0].startswith("4 of 9 targets met and 5 missed, each target counted once; 2 of 4")


def test_the_four_promises_are_cards_with_their_headline_figures(page_one):
    summary, _, _ = page_one
    assert [(c.figure.key, c.figure.text(), c.figure.met) for c in summary.cards] == [
        ("registrations.approved_48h", "90.0 %", False),
        ("messaging.first_response_24h", "97.0 %", True),
        ("support.resolved_24h", "96.0 %", True),
        ("moderation.decided_12h", "70.0 %", False),
    ]
    card = summary.cards[0]
    assert card.figure.n == 200 and card.figure.change_text == "−2.0 pts" and card.figure.target_text == "≥ 100 %"
    assert card.trend_labels == ["Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025", "Q1 2026"]
    assert len(card.trend) == 5 and {c.area for c in summary.cards} == {
        "accounts",
        "messaging",
        "support",
        "moderation",
    }


def test_wins_and_risks_are_the_figures_in_order_with_sentences_and_footnotes(page_one):
    summary, _, _ = page_one
    wins = [f for f in summary.findings if f.kind == "win"]
    risks = [f for f in summary.findings if f.kind == "risk"]
    # Wins: promises that improved first (messaging +7 pts before support +0.5), then the biggest improvement.
    assert [w.figure_key for w in wins] == [
        "messaging.first_response_24h",
        "support.resolved_24h",
        "support.csat_average",
    ]
    assert wins[0].text == (
        "Messages answered within 24 h: 97.0 % (n = 200), meeting the target of ≥ 95 %, up 7.0 pts on Q4 2025."
    )
    # Risks: the missed promises first, the furthest from target first; then the rest, by distance (at most three).
    assert [r.figure_key for r in risks] == [
        "moderation.decided_12h",
        "registrations.approved_48h",
        "messaging.volume",
    ]
    assert risks[0].text == (
        "Flagged content decided within 12 h: 70.0 % (n = 200), missing the target of ≥ 95 %, down 10.0 pts on Q4 2025."
    )
    # Every risk says what to do, each something different; nothing is cited in brackets inside a sentence.
    assert all(r.recommendation for r in risks)
    assert len({r.recommendation for r in risks}) == 3
    assert "Messages reached 9,000 against the quarter's plan" in risks[2].recommendation
    texts = [f.text for f in summary.findings] + [f.recommendation for f in summary.findings] + summary.paragraphs
    assert not any("[" in t for t in texts)
    # Footnotes: one per figure cited, numbered in order; a card and a risk citing one figure share its number.
    assert [c.source for c in summary.cards] == [1, 2, 3, 4]
    assert risks[0].source == 4 and risks[1].source == 1
    assert len(summary.sources) == len({c.figure.key for c in summary.cards} | {f.figure_key for f in summary.findings})
    assert summary.sources[0].startswith("Registrations: Registrations approved within 48 h — ")


def test_recommendations_answer_each_missed_target_once(page_one):
    _, recs, _ = page_one
    texts = [row[0] for row in recs.tables[0].rows]
    assert recs.paragraphs == ["5 recommendations, each beside the figure it rests on."]
    assert len(texts) == len(set(texts))
    # One line per promise missed (the headline and the compliance figure are one promise), one for team time,
    # the volume rule, and one for the issue rate shown in two sections.
    assert sum("Registrations approved within 48 h" in t for t in texts) == 1
    assert sum("Flagged content decided within 12 h" in t for t in texts) == 1
    assert sum("platform issue rate" in t for t in texts) == 1
    assert sum("team time" in t for t in texts) == 1
    assert len(texts) == 5
    assert recs.tables[0].columns == ["Recommendation", "Section", "Figure", "Value", "n", "Target"]


def test_each_risks_recommendation_is_about_the_figure_the_risk_quotes():
    """The support promise's headline (resolved within 24 h) and the figure held to the promise's own target
    (within the priority's target) both miss: each risk's advice names and rests on its own figure."""
    sections = hand_built()
    support = next(s for s in sections if s.key == "support")
    support.figures[0] = figure("support.resolved_24h", "Inquiries resolved within 24 h", 60.0, 95.0)
    support.figures.append(
        figure(
            "support.resolved_priority_target",
            "Tickets resolved within their priority's target",
            50.0,
            95.0,
            target_key="sla.ticket.resolution",
        )
    )
    ctx = context_for(QUARTER, NOW)
    advice = advise(sections, ctx)
    summary = executive_summary(sections, ctx, advice)
    labels = {f.key: f.label for s in sections for f in s.figures}
    rests_on = {a.text: a.figure.key for a in advice}
    risks = [f for f in summary.findings if f.kind == "risk"]
    assert [r.figure_key for r in risks] == [
        "support.resolved_24h",
        "moderation.decided_12h",
        "registrations.approved_48h",
    ]
    for risk in risks:
        assert rests_on[risk.recommendation] == risk.figure_key
        assert labels[risk.figure_key].lower() in risk.recommendation.lower()
    assert "priority" not in risks[0].recommendation
    # The figure held to the promise's target has advice of its own, not the headline's.
    priority = support.figures[-1]
    assert [a.figure.key for a in advice if a.covers(priority)] == ["support.resolved_priority_target"]
