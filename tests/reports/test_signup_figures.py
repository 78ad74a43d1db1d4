"""The registration section's volume and decision figures, read through the figure registry and checked on
hand-built rows against values worked out here in plain Python over the same rows.

Q1 2026, read a week after it ended. A sign-up started, and one decided, late on 31 March are Q1's; those a few
minutes into 1 April are Q2's. Applicants live in Gauteng (any case), the Western Cape, or gave no region: the
region filter is checked on the same rows.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Registration, RegistrationStatus
from reports.figures import FIGURE_FILTERS, not_split_by
from reports.sections import build_section, context_for, specs
from reports.sections.accounts import registrations_section
from saypro import periods
from saypro.figures.registry import figure_read, figure_spec
from saypro.sla.models import Clock, ClockState
from saypro.sla.services import clock_start, clock_stop
from tests.factories import RegistrationFactory, UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

APPROVED, REJECTED = RegistrationStatus.APPROVED, RegistrationStatus.REJECTED
Q1 = periods.from_slug("2026-Q1")
Q2 = periods.from_slug("2026-Q2")
AFTER_Q1 = local(2026, 4, 8, 12)
H = timedelta(hours=1)
LAST_EVENING = local(2026, 3, 31, 23, 30)
NEXT_MORNING = local(2026, 4, 1, 0, 10)
METRIC = "registration.approval"
MOVED = (
    "registrations.started",
    "registrations.approved",
    "registrations.auto_approval_rate",
    "registrations.conversion",
    "registrations.median_decision_hours",
)

# (region, started, submitted after hours, decided after hours from submission, status, automatic)
ROWS = [
    ("Gauteng", local(2026, 1, 5, 9), 1, 10, APPROVED, True),
    ("gauteng", local(2026, 1, 20, 9), 2, 30, APPROVED, False),
    ("Western Cape", local(2026, 2, 3, 9), 1, 50, REJECTED, False),
    ("Gauteng", local(2026, 2, 10, 9), 1, None, RegistrationStatus.NEEDS_REVIEW, False),
    ("", local(2026, 3, 1, 9), None, None, RegistrationStatus.STARTED, False),
    # Started on the quarter's last evening, decided in Q2: the sign-up is Q1's, the approval Q2's.
    ("Western Cape", LAST_EVENING, 0.1, 5, APPROVED, True),
    # Started in Q4, decided on Q1's last evening: the approval and the decision time are Q1's.
    ("Gauteng", local(2025, 12, 30, 9), 1, (LAST_EVENING - local(2025, 12, 30, 10)) / H, APPROVED, False),
    # Started a few minutes into Q2: in none of Q1's values.
    ("Gauteng", NEXT_MORNING, 0.5, 1, APPROVED, True),
]


def _make(region, started, submitted_after, decided_after, status, automatic) -> Registration:
    submitted = None if submitted_after is None else started + submitted_after * H
    decided = None if decided_after is None else submitted + decided_after * H
    registration = RegistrationFactory(
        user=UserFactory(region=region),
        status=status,
        started_at=started,
        submitted_at=submitted,
        decided_at=decided,
        auto_approved=automatic,
    )
    if submitted is not None:
        clock_start(metric=METRIC, target=registration, at=submitted)
        if decided is not None:
            clock_stop(metric=METRIC, target=registration, at=decided)
    return registration


@pytest.fixture
def world() -> list[Registration]:
    return [_make(*row) for row in ROWS]


def read(key: str, period=Q1, **filters: str):
    return figure_read(key, period, now=AFTER_Q1, filters=filters).current


def within(moment: datetime | None, period=Q1) -> bool:
    return moment is not None and period.start_at <= moment < period.end_at


def expected(rows: list[Registration], period=Q1, region: str | None = None) -> dict[str, tuple[float | None, int]]:
    """Each moved figure's (value, n) in plain Python over the rows."""
    if region:
        rows = [r for r in rows if r.user.region.lower() == region.lower()]
    started = [r for r in rows if within(r.started_at, period)]
    decided = [r for r in rows if within(r.decided_at, period)]
    approved = [r for r in decided if r.status == APPROVED]
    automatic = [r for r in approved if r.auto_approved]
    converted = [r for r in started if r.status == APPROVED]
    ids = {r.pk for r in rows}
    elapsed = sorted(
        c.elapsed_seconds
        for c in Clock.objects.filter(metric=METRIC, state=ClockState.STOPPED)
        if c.target_id in ids and within(c.stopped_at, period) and c.elapsed_seconds is not None
    )
    median = elapsed[max(0, math.ceil(len(elapsed) / 2) - 1)] / 3600 if elapsed else None
    return {
        "registrations.started": (float(len(started)), len(started)),
        "registrations.approved": (float(len(approved)), len(approved)),
        "registrations.auto_approval_rate": (
            100 * len(automatic) / len(approved) if approved else None,
            len(approved),
        ),
        "registrations.conversion": (100 * len(converted) / len(started) if started else None, len(started)),
        "registrations.median_decision_hours": (median, len(elapsed)),
    }


def test_the_moved_figures_follow_their_definitions_and_place_the_last_day_in_its_quarter(world):
    want = expected(world)
    for key in MOVED:
        reading = read(key)
        assert (reading.value, reading.n) == (pytest.approx(want[key][0]), want[key][1]), key
    # Worked out by hand, so the plain-Python version is checked too: six sign-ups started in Q1 (the last
    # evening's included), three approvals decided in Q1 (the Q4 sign-up decided on the last evening among them).
    assert want["registrations.started"] == (6.0, 6)
    assert want["registrations.approved"] == (3.0, 3)
    assert want["registrations.auto_approval_rate"][0] == pytest.approx(100 / 3)
    assert want["registrations.conversion"] == (50.0, 6)
    # Decisions stopped in Q1 after 10, 30, 50 and about 2,200 hours: the nearest-rank median is the second.
    assert want["registrations.median_decision_hours"] == (30.0, 4)
    # The last evening's sign-up was approved in Q2, the next morning's too: Q2 has both approvals and one sign-up.
    q2 = expected(world, Q2)
    assert q2["registrations.started"] == (1.0, 1) and q2["registrations.approved"] == (2.0, 2)
    for key in MOVED:
        reading = read(key, Q2)
        assert (reading.value, reading.n) == (pytest.approx(q2[key][0]), q2[key][1]), key


@pytest.mark.parametrize("region", ["gauteng", "Western Cape", "Free State"])
def test_the_moved_figures_split_by_the_applicants_region(world, region):
    want = expected(world, region=region)
    for key in MOVED:
        assert figure_spec(key).dimensions == ("region",)
        assert not_split_by(key, {"region": region}) == []
        reading = read(key, region=region)
        assert (reading.value, reading.n) == (pytest.approx(want[key][0]), want[key][1]), (key, region)
    if region == "gauteng":
        assert want["registrations.started"] == (3.0, 3) and want["registrations.median_decision_hours"][1] == 3


def test_a_region_filtered_section_marks_only_the_other_filters_as_not_split(world):
    filters = {"region": "Gauteng", "category": "account", "ad_category": "phones"}
    ctx = context_for(Q1, AFTER_Q1, filters)
    section = build_section(next(s for s in specs() if s.key == "registrations"), ctx)
    shown = {f.key: f for f in section.figures}
    for key in MOVED:
        assert shown[key].not_split_by == [n for n in FIGURE_FILTERS if n in filters and n != "region"], key
        assert shown[key].value == read(key, region="Gauteng").value, key


def test_the_section_reads_the_moved_figures_from_the_registry_and_its_queries_do_not_grow(world):
    with CaptureQueriesContext(connection) as few:
        section = registrations_section(context_for(Q1, AFTER_Q1))
    for figure in section.figures:
        reading = figure_read(figure.key, Q1, now=AFTER_Q1)
        assert (figure.value, figure.n, figure.previous) == (
            reading.current.value,
            reading.current.n,
            reading.previous.value if reading.previous else None,
        ), figure.key
    assert set(MOVED) <= {f.key for f in section.figures}
    # Ten times the registrations, on the same days and in the same states.
    for _ in range(10):
        for row in ROWS:
            _make(*row)
    with CaptureQueriesContext(connection) as many:
        registrations_section(context_for(Q1, AFTER_Q1))
    assert len(many.captured_queries) == len(few.captured_queries)
