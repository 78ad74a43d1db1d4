"""The messaging, support and moderation sections read daily rollups: the same figures whether the rollups are
stored or computed on the spot, and the same as the apps' selectors give over the raw rows (area_quarter)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from messaging import selectors as messaging
from moderation.models import ACTION_DONE, Action, Reason
from reports import rollups
from reports.sections import build_document, context_for
from reports.sections.messaging import messaging_section
from reports.sections.moderation import moderation_section
from reports.sections.support import support_section
from saypro import periods
from saypro.sla import selectors as sla_selectors
from support import metrics as support
from support.models import Ticket

from .conftest import NOW, local

pytestmark = pytest.mark.django_db

Q1 = periods.containing(periods.QUARTER, date(2026, 2, 1))
FEBRUARY = periods.containing(periods.MONTH, date(2026, 2, 1))
STORED = pytest.mark.parametrize("stored", [False, True], ids=["computed on the spot", "from stored rollups"])


def refresh(*names: str, now=NOW) -> None:
    rollups.rollups_refresh(first=date(2025, 10, 1), last=periods.today(now) - timedelta(days=1), now=now, names=names)


def build(section, period, now=NOW):
    with time_machine.travel(now, tick=False):
        return section(context_for(period, now))


def figures(section) -> dict[str, object]:
    return {f.key: (f.value, f.previous, f.note) for f in section.figures}


def rows(section, key):
    return next(t for t in section.tables if t.key == key).rows


@pytest.mark.parametrize("source", ["messaging", "support", "moderation"])
def test_stored_rollups_give_the_same_figures_as_computing_on_the_spot(area_quarter, source):
    reports = (("quarterly", Q1), ("monthly", FEBRUARY))
    live = [build_document(kind=kind, period=period, now=NOW).as_dict() for kind, period in reports]
    refresh(source)
    stored = [build_document(kind=kind, period=period, now=NOW).as_dict() for kind, period in reports]
    assert rollups.RollupCoverage.objects.get(source=source).last_day == date(2026, 4, 1)
    for before, after in zip(live, stored, strict=True):
        assert after["sections"] == before["sections"] and after["appendices"] == before["appendices"]


@STORED
def test_messaging_reads_the_same_volume_and_mix_as_the_selectors(area_quarter, stored):
    if stored:
        refresh("messaging", "sla")
    section = build(messaging_section, Q1)
    volume = messaging.message_volume(start=Q1.start_at, end=NOW, period="week")
    values = figures(section)
    assert values["messaging.inbound"] == (sum(r.inbound for r in volume), 1, "") == (2, 1, "")
    assert values["messaging.outbound"][0] == sum(r.outbound for r in volume) == 1
    assert values["messaging.user_messages"][0] == sum(r.user_messages for r in volume) == 2
    assert values["messaging.team_replies"][0] == sum(r.team_replies for r in volume) == 3
    # M1 answered after 2 h, M2 after 8.5 h: 5.25 h on average; nothing answered in Q4.
    stats = sla_selectors.stop_time_stats(metric=messaging.FIRST_RESPONSE, start=Q1.start_at, end=NOW)
    assert values["messaging.conversation_first_response_average"][:2] == (
        pytest.approx(stats.average / 3600),
        None,
    )
    assert stats.average == 5.25 * 3600
    # The registry's volume is in messages: users' and the team's.
    assert values["messaging.volume"][0] == sum(r.user_messages + r.team_replies for r in volume) == 5
    chart = next(c for c in section.charts if c.key == "messaging_volume")
    assert chart.labels == [f"{r.period_start:%d %b}" for r in volume] == ["05 Jan", "09 Feb", "02 Mar"]
    assert [s.values for s in chart.series] == [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    mix = messaging.category_mix(start=Q1.start_at, end=NOW)
    assert rows(section, "messaging_mix") == [
        [g.label, g.count, round(g.share * 100, 1), round(g.target_share * 100, 1), round(g.difference * 100, 1)]
        for g in mix.groups
        if g.share is not None and g.difference is not None
    ]
    assert [g.count for g in mix.groups] == [0, 0, 1, 1, 0] and mix.uncategorised == 0


@STORED
def test_support_reads_the_same_csat_weeks_and_first_replies_as_its_metrics(area_quarter, stored):
    if stored:
        refresh("support", "sla")
    section = build(support_section, Q1)
    values = figures(section)
    # Created in Q1: T1, T2, T3 (Q4: T4); solved: T1 and T2 (Q4: T4).
    assert values["support.created"] == (3, 1, "") and values["support.solved"] == (2, 1, "")
    first = support.first_response_stats(start=Q1.start_at, end=NOW)
    # Received in Q1 and first answered: T1 after 1 h and T2 after 4 h; T4 after 2 h in Q4.
    assert values["support.first_response_hours"][:2] == (pytest.approx(first.average / 3600), pytest.approx(2.0))
    assert (first.count, first.average) == (2, 2.5 * 3600)
    csat = support.csat(start=Q1.start_at, end=NOW)
    assert values["support.csat_satisfied"][0] == csat.csat * 100 == 50.0
    assert values["support.csat_average"][0] == csat.average == 3.5
    assert section.figure("support.csat_average").n == csat.responses == 2
    assert rows(section, "support_csat_channel") == [
        [c.label, c.sent, c.responses, round(c.response_rate * 100, 1), round(c.csat * 100, 1), round(c.average, 2)]
        for c in support.csat_by(dimension="channel", start=Q1.start_at, end=NOW)
        if c.response_rate is not None and c.csat is not None and c.average is not None
    ]
    assert rows(section, "support_csat_channel") == [
        ["Live chat", 1, 1, 100.0, 0.0, 2.0],
        ["Web form", 2, 1, 50.0, 100.0, 5.0],
    ]
    # Week by week, the flat 24 h over the tickets received, worked out over the rows one by one.
    expected: dict[str, list[int]] = {}
    for ticket in Ticket.objects.all():
        if not Q1.contains(ticket.created_at):
            continue
        local_day = timezone.localtime(ticket.created_at).date()
        week = expected.setdefault((local_day - timedelta(days=local_day.weekday())).isoformat(), [0, 0])
        solved_in_time = ticket.solved_at is not None and ticket.solved_at - ticket.created_at <= timedelta(hours=24)
        week[0 if solved_in_time else 1] += 1
    assert {row[0]: row[1:3] for row in rows(section, "support_weekly") if row[1] or row[2]} == expected
    assert expected == {"2026-01-05": [1, 0], "2026-02-09": [0, 1], "2026-03-16": [0, 1]}
    chart = next(c for c in section.charts if c.key == "support_tickets")
    assert [sum(s.values) for s in chart.series] == [3.0, 2.0] and chart.labels[0] == "01 Jan"


def test_moderation_tables_are_the_parts_of_its_registry_figures(area_quarter):
    section = build(moderation_section, Q1)
    values = figures(section)
    # Flags by the moment raised; decisions on the content first flagged in Q1, against the whole of Q4.
    assert values["moderation.flags"][:2] == (5.0, 2.0) and values["moderation.actions"][:2] == (3.0, 1.0)
    flags = rows(section, "moderation_flags")
    # Every reason, in the order of the choices, zeros included; adding up to the figure.
    assert [row[0] for row in flags] == [label for _, label in Reason.choices]
    assert sum(row[1] + row[2] for row in flags) == 5
    assert {row[0]: row[1:] for row in flags if row[1] or row[2]} == {
        "Spam": [2, 0],
        "Fraud or scam": [1, 1],
        "Other": [1, 0],
    }
    actions = {row[0]: row[1:] for row in rows(section, "moderation_actions")}
    assert list(actions) == [ACTION_DONE[a] for a in Action.values]
    assert (actions["Removed"], actions["Kept (flags dismissed)"]) == ([2, 1], [1, 0])
    assert sum(n for n, _ in actions.values()) == 3


def test_survey_answers_days_after_sending_reach_the_stored_rollups(area_quarter):
    """T3's survey, sent 21 March, is answered on 31 March: the refresh of 2 April recomputes it, although the
    recent days it recomputes by default are fewer (a survey's day settles 21 days after it)."""
    from support import services as support_services
    from support.models import Survey

    refresh("support", now=local(2026, 3, 25, 12, 0))
    survey = Survey.objects.get(rating=None)
    with time_machine.travel(local(2026, 3, 31, 9, 0), tick=False):
        support_services.survey_answer(token=support_services.survey_token(survey), rating=4)
    rollups.rollups_refresh(now=NOW, names=["support"])
    section = build(support_section, Q1)
    assert section.figure("support.csat_average").n == 3
    # Web form now has the most responses, so it comes first.
    assert rows(section, "support_csat_channel")[0] == ["Web form", 2, 2, 100.0, 100.0, 4.5]
