"""The moderation figures (document 003) on hand-built rows, each checked against the value worked out here in
plain Python over the same rows, never through the product's queries.

A flagged object is placed in the period by the day it was first flagged; a flag by the moment it was raised.
Edge cases: an object first flagged on the quarter's last day and decided the next quarter's first hours (its
deadline falls in Q2, its first flag in Q1), an object still inside its 12 h when the quarter is read just after
its end (pending), another past its 12 h undecided, a flag raised after the quarter on an object flagged in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

from moderation.metrics import METRIC
from moderation.models import REMOVING_ACTIONS, Action, Appeal, Case, CaseStatus, Decision, Flag, Reason, Source
from saypro import periods
from saypro.figures.registry import figure_read
from saypro.sla.services import clock_start, clock_stop
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Africa/Johannesburg")
Q1 = periods.from_slug("2026-Q1")
H = timedelta(hours=1)
# A week after Q1 ended: Q1 is complete, and every case flagged in it is past its 12 h.
AFTER_Q1 = datetime(2026, 4, 8, 12, tzinfo=LOCAL)
# One hour after Q1 ended: the case flagged at 22:00 on its last day is still inside its 12 h.
JUST_AFTER_Q1 = datetime(2026, 4, 1, 1, tzinfo=LOCAL)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


@dataclass
class Row:
    flagged: datetime
    kind: str
    reason: str
    source: str
    # Hours from the first flag to the decision; None: undecided.
    hours: float | None = None
    action: str = Action.REMOVE
    reversed: bool = False
    # The appeal against the decision: "", "pending", "upheld" or "reversed".
    appeal: str = ""
    # Further flags on the object, after the first: the moments they were raised.
    more_flags: list[datetime] = field(default_factory=list)

    @property
    def automatic(self) -> bool:
        return self.source == Source.AUTOMATIC


ROWS = [
    Row(local(2026, 1, 10, 9), "listing", Reason.SPAM, Source.USER, 3, more_flags=[local(2026, 4, 2, 9)]),
    Row(local(2026, 2, 1, 9), "listing", Reason.FRAUD, Source.AUTOMATIC, 14, reversed=True, appeal="reversed"),
    Row(local(2026, 2, 20, 9), "message", Reason.SPAM, Source.AUTOMATIC, 1, action=Action.KEEP),
    Row(local(2026, 3, 5, 9), "listing", Reason.FRAUD, Source.AUTOMATIC, 6, appeal="upheld"),
    Row(local(2026, 3, 12, 9), "profile", Reason.FRAUD, Source.USER, 2, action=Action.BAN_USER, appeal="pending"),
    # The quarter's last day: decided half an hour later, its deadline in Q2.
    Row(local(2026, 3, 31, 23), "listing", Reason.SPAM, Source.USER, 0.5, more_flags=[local(2026, 3, 31, 23, 10)]),
    # The quarter's last day, never decided: pending just after the quarter, late a week later.
    Row(local(2026, 3, 31, 22), "listing", Reason.SPAM, Source.AUTOMATIC),
    # Outside Q1: the quarter before, and the first hour of the quarter after.
    Row(local(2025, 12, 20, 9), "listing", Reason.SPAM, Source.USER, 20),
    Row(local(2026, 4, 1, 0, 30), "listing", Reason.FRAUD, Source.USER, 1),
]


@pytest.fixture
def rows() -> list[Row]:
    listing = ContentType.objects.get(app_label="marketplace", model="listing")
    author = UserFactory()
    for number, row in enumerate(ROWS, start=1):
        case = Case.objects.create(
            content_type=listing,
            object_id=number,
            kind=row.kind,
            source=row.source,
            reason=row.reason,
            created_at=row.flagged,
            opened_at=row.flagged,
        )
        for at in [row.flagged, *row.more_flags]:
            Flag.objects.create(case=case, round=1, source=row.source, reason=row.reason, created_at=at)
        clock_start(metric=METRIC, target=case, at=row.flagged)
        if row.hours is None:
            continue
        decided_at = row.flagged + row.hours * H
        clock_stop(metric=METRIC, target=case, at=decided_at)
        decision = Decision.objects.create(
            case=case,
            round=1,
            action=row.action,
            reason="Checked.",
            at=decided_at,
            automatic=row.automatic,
            reversed_at=decided_at + 48 * H if row.reversed else None,
        )
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.DECIDED, decided_at=decided_at, decision=decision)
        if row.appeal:
            Appeal.objects.create(
                decision=decision, case=case, appellant=author, statement="Not spam.", status=row.appeal
            )
    return ROWS


def in_q1(moment: datetime) -> bool:
    return Q1.start_at <= moment < Q1.end_at


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def read(key: str, now: datetime = AFTER_Q1, **filters: str):
    return figure_read(key, Q1, now=now, filters=filters).current


def test_flags_count_each_report_by_the_moment_it_was_raised(rows):
    raised = [at for r in rows for at in [r.flagged, *r.more_flags] if in_q1(at)]
    reading = read("moderation.flags")
    # The second flag on the first object (2 April) is Q2's, though the object was first flagged in Q1.
    assert (reading.value, reading.n) == (len(raised), len(raised)) == (8, 8)
    spam = [at for r in rows if r.reason == Reason.SPAM for at in [r.flagged, *r.more_flags] if in_q1(at)]
    assert read("moderation.flags", reason="spam").value == len(spam)
    assert read("moderation.flags").parts["spam/automatic"] == sum(
        1 for r in rows if in_q1(r.flagged) and (r.reason, r.source) == (Reason.SPAM, Source.AUTOMATIC)
    )


def test_decisions_count_the_objects_first_flagged_in_the_period(rows):
    flagged = [r for r in rows if in_q1(r.flagged)]
    decided = [r for r in flagged if r.hours is not None]
    reading = read("moderation.actions")
    # The object flagged at 23:00 on 31 March and decided at 23:30 counts; the one flagged at 00:30 on 1 April not.
    assert (reading.value, reading.n, reading.pending) == (len(decided), len(decided), len(flagged) - len(decided))
    assert reading.parts == {
        action: sum(1 for r in decided if r.action == action) for action in {r.action for r in decided}
    }
    listings = [r for r in decided if r.kind == "listing"]
    assert read("moderation.actions", content_type="listing").value == len(listings)


def test_time_to_decision_median_and_p90_over_the_decided_objects(rows):
    times = [r.hours for r in rows if in_q1(r.flagged) and r.hours is not None]
    assert times == [3, 14, 1, 6, 2, 0.5]
    median, p90 = read("moderation.median_hours"), read("moderation.p90_hours")
    assert (median.value, median.n) == (pytest.approx(nearest_rank(times, 0.5)), len(times))
    assert (p90.value, p90.n) == (pytest.approx(nearest_rank(times, 0.9)), len(times))
    # The undecided object of 31 March is past its 12 h a week later: late, not pending.
    assert (median.pending, median.parts["open_late"]) == (0, 1)
    fraud = [r.hours for r in rows if in_q1(r.flagged) and r.hours is not None and r.reason == Reason.FRAUD]
    assert read("moderation.median_hours", reason="fraud").value == pytest.approx(nearest_rank(fraud, 0.5))


def test_an_object_inside_its_12_hours_at_the_period_end_is_pending(rows):
    # An hour after the quarter: the object flagged at 22:00 on 31 March is due at 10:00 on 1 April.
    median = read("moderation.median_hours", now=JUST_AFTER_Q1)
    assert (median.pending, median.parts["open_late"]) == (1, 0)
    decided = read("moderation.decided_12h", now=JUST_AFTER_Q1)
    assert decided.pending == 1


def test_automatic_precision_is_upheld_automatic_decisions_of_all_automatic_decisions(rows):
    automatic = [r for r in rows if in_q1(r.flagged) and r.automatic and r.hours is not None]
    upheld = [r for r in automatic if r.action in REMOVING_ACTIONS and not r.reversed]
    reading = read("moderation.automatic_precision")
    # Of three: one removal reversed on appeal and one kept do not count as upheld.
    assert (reading.value, reading.n) == (pytest.approx(100 * len(upheld) / len(automatic)), len(automatic))
    assert len(automatic) == 3 and len(upheld) == 1
    undecided = [r for r in rows if in_q1(r.flagged) and r.automatic and r.hours is None]
    assert reading.pending == len(undecided) == 1


def test_appeal_reversals_are_reversed_of_decided_appeals(rows):
    appeals = [r.appeal for r in rows if in_q1(r.flagged) and r.appeal]
    decided = [a for a in appeals if a != "pending"]
    reading = read("moderation.appeal_reversals")
    assert (reading.value, reading.n, reading.pending) == (
        pytest.approx(100 * decided.count("reversed") / len(decided)),
        len(decided),
        appeals.count("pending"),
    )
    assert reading.value == 50


def test_a_running_quarter_is_compared_with_the_same_span_of_the_one_before(rows):
    now = local(2026, 1, 20, 12)
    reading = figure_read("moderation.actions", Q1, now=now)
    assert reading.current.to_date and reading.current.value == 1
    # Q4 to 20 October: the object flagged on 20 December is outside that span, inside the whole quarter.
    assert reading.previous is not None and reading.previous.value == 0
    assert figure_read("moderation.actions", Q1.previous(), now=now).current.value == 1
