"""Every figure of the registration and compliance sections against values computed by hand (see conftest)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports import periods, rollups
from reports.document import Document
from reports.sections import build_document, context_for
from reports.sections.accounts import registrations_section
from reports.sections.compliance import compliance_section

from .conftest import METRIC, NOW

pytestmark = pytest.mark.django_db

Q1 = periods.containing(periods.QUARTER, date(2026, 2, 1))


def figures(section) -> dict[str, float | None]:
    return {f.key: f.value for f in section.figures}


def table(section, key):
    return next(t for t in section.tables if t.key == key)


@pytest.fixture
def q1(quarter_data):
    with time_machine.travel(NOW, tick=False):
        yield context_for(Q1, NOW)


def test_compliance_is_achieved_over_achieved_plus_breached_by_deadline_date(q1):
    section = compliance_section(q1)
    figure = next(f for f in section.figures if f.key == f"compliance.{METRIC}")
    assert figure.value == 50.0 and figure.previous == 100.0 and figure.target == 100.0
    assert figure.met is False and figure.change == -50.0
    assert figure.note == "2 of 4 decided within 48 h"
    row = next(r for r in table(section, "compliance").rows if r[0] == "Registrations approved within 48 h")
    # Stopped in Q1: 1 min, 30 h and 60 h.
    assert row[2:6] == [2, 2, 50.0, 100.0]
    assert row[6] == pytest.approx(round((1 / 60 + 30 + 60) / 3, 2)) and row[7] == 30.0 and row[8] == 60.0


def test_registration_figures(q1):
    values = figures(registrations_section(q1))
    assert values["registrations.started"] == 6  # R1–R6
    assert values["registrations.submitted"] == 5
    assert values["registrations.approved"] == 3  # R1, R2, R3 decided in Q1
    assert values["registrations.within_48h"] == 50.0
    assert values["registrations.auto_approval_rate"] == pytest.approx(100 / 3)
    assert values["registrations.conversion"] == 50.0  # 3 of the 6 started in Q1 are approved
    assert values["registrations.median_decision_hours"] == 30.0


def test_registration_breakdowns_funnel_and_causes(q1):
    section = registrations_section(q1)
    assert table(section, "registrations_country").rows == [["ZA", 5, pytest.approx(83.3)], ["NG", 1, 16.7]]
    funnel = {row[0]: row[1:] for row in table(section, "registrations_funnel").rows}
    assert funnel["Started sign-up"] == [6, 100.0, None]
    assert funnel["Verified e-mail"] == [5, pytest.approx(83.3), pytest.approx(16.7)]
    assert funnel["Verified phone"] == [3, 50.0, 40.0]
    assert funnel["Approved"] == [3, 50.0, 40.0]
    assert table(section, "registrations_delay_causes").rows == [["Review backlog", 1, 100.0]]
    ages = {row[0]: row[1] for row in table(section, "registrations_age").rows}
    assert ages["25–34"] == 5 and ages["18–24"] == 1
    # 5 January had two sign-ups, both from the NEWYEAR campaign; the median day of the quarter had none.
    assert table(section, "registrations_peaks").rows == []


def test_stored_rollups_give_the_same_figures_as_computing_on_the_spot(q1):
    live = build_document(kind="quarterly", period=Q1, now=NOW).as_dict()
    written = rollups.rollups_refresh(first=date(2025, 10, 1), last=date(2026, 4, 1), now=NOW)
    assert written["registrations"] > 0 and written["sla"] > 0
    stored = build_document(kind="quarterly", period=Q1, now=NOW).as_dict()
    assert stored["sections"] == live["sections"] and stored["appendices"] == live["appendices"]


def test_report_totals_reconcile_with_the_raw_tables(q1):
    from accounts.models import Registration
    from saypro.sla.models import Clock

    rollups.rollups_refresh(first=date(2025, 10, 1), last=date(2026, 4, 1), now=NOW)
    document: Document = build_document(kind="quarterly", period=Q1, now=NOW)
    sla = next(t for t in document.appendices if t.key == "raw_sla_daily")
    due_in_q1 = Clock.objects.filter(metric=METRIC, due_at__gte=Q1.start_at, due_at__lt=Q1.end_at).count()
    assert sum(row[3] + row[4] for row in sla.rows if row[1] == METRIC) == due_in_q1 == 4
    daily = next(t for t in document.appendices if t.key == "raw_registrations_daily")
    started = Registration.objects.filter(started_at__gte=Q1.start_at, started_at__lt=Q1.end_at).count()
    assert sum(row[1] for row in daily.rows) == started == 6
