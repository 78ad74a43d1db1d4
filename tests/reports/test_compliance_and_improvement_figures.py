"""The promises' achievement (compliance.<metric>) and the improvement log's counts on hand-built rows, each
checked against the value worked out here in plain Python over the same rows.

Achievement places an item by the local day its deadline fell: an item received on a quarter's last day whose
deadline falls in the next quarter counts there. An improvement is placed by the day the change was made.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

from moderation.metrics import METRIC
from moderation.models import Case, Reason, Source
from reports.figures import compliance_key
from reports.glossary import glossary
from reports.models import Improvement
from saypro import periods
from saypro.figures.registry import figure_read, figure_spec
from saypro.sla.promises import promises
from saypro.sla.services import clock_start, clock_stop

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Africa/Johannesburg")
Q1 = periods.from_slug("2026-Q1")
H = timedelta(hours=1)
AFTER_Q1 = datetime(2026, 4, 8, 12, tzinfo=LOCAL)
DEADLINE = 12 * H


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def test_every_promise_has_its_achievement_figure_with_the_promise_target():
    for promise in promises():
        spec = figure_spec(compliance_key(promise.metric))
        assert (spec.target_key, spec.unit, spec.direction) == (promise.target_key, "percent", "up")
        assert spec.label.startswith(promise.title) and "deadline" in spec.placed_by


def test_achievement_places_items_by_the_day_their_deadline_fell():
    listing = ContentType.objects.get(app_label="marketplace", model="listing")
    # (first flagged, hours to the decision or None): the deadline is 12 h after the first flag.
    rows = [
        (local(2026, 1, 10, 9), 3),
        (local(2026, 2, 1, 9), 14),
        (local(2026, 3, 5, 9), 11.5),
        # Flagged on the quarter's last day: its deadline (10:00 on 1 April) falls in Q2.
        (local(2026, 3, 31, 22), 1),
        # Open past its deadline: missed.
        (local(2026, 3, 20, 9), None),
        # Due in Q1 from a flag in Q4.
        (local(2025, 12, 31, 20), 13),
    ]
    for number, (flagged, hours) in enumerate(rows, start=1):
        case = Case.objects.create(
            content_type=listing,
            object_id=number,
            kind="listing",
            source=Source.USER,
            reason=Reason.SPAM,
            created_at=flagged,
        )
        clock_start(metric=METRIC, target=case, at=flagged)
        if hours is not None:
            clock_stop(metric=METRIC, target=case, at=flagged + hours * H)
    due = [(f + DEADLINE, h) for f, h in rows if Q1.start_at <= f + DEADLINE < Q1.end_at]
    met = sum(1 for _, h in due if h is not None and h * H <= DEADLINE)
    reading = figure_read(compliance_key(METRIC), Q1, now=AFTER_Q1).current
    assert (reading.value, reading.n) == (pytest.approx(100 * met / len(due)), len(due))
    assert (reading.parts["met"], reading.parts["missed"], len(due)) == (met, len(due) - met, 5)
    # The target in force: every flagged item within 12 h, missed here.
    assert (reading.target, reading.met) == (100, False)
    # The item of 31 March is Q2's.
    q2 = figure_read(compliance_key(METRIC), periods.from_slug("2026-Q2"), now=AFTER_Q1).current
    assert (q2.value, q2.n) == (100, 1)


def test_improvements_are_counted_by_the_day_the_change_was_made():
    entries = [
        (Improvement.Kind.FEATURE, date(2026, 1, 5), "accounts"),
        (Improvement.Kind.FEATURE, date(2026, 3, 31), "moderation"),
        (Improvement.Kind.OPTIMISATION, date(2026, 2, 2), "accounts"),
        (Improvement.Kind.FEEDBACK, date(2026, 4, 1), "accounts"),
        (Improvement.Kind.FEATURE, date(2025, 12, 31), "accounts"),
    ]
    for kind, made_on, area in entries:
        Improvement.objects.create(kind=kind, title="Change", made_on=made_on, area=area)
    for kind in Improvement.Kind.values:
        expected = sum(1 for k, made_on, _ in entries if k == kind and Q1.start <= made_on < Q1.end)
        reading = figure_read(f"improvements.{kind}", Q1, now=AFTER_Q1).current
        assert (reading.value, reading.n) == (expected, expected), kind
    features = figure_read("improvements.feature", Q1, now=AFTER_Q1, filters={"area": "accounts"}).current
    assert features.value == 1
    # A running quarter counts to date: an entry dated ahead of today is not made yet.
    Improvement.objects.create(kind=Improvement.Kind.FEEDBACK, title="Planned", made_on=date(2026, 4, 20))
    q2 = figure_read("improvements.feedback", periods.from_slug("2026-Q2"), now=AFTER_Q1).current
    assert (q2.value, q2.to_date) == (1, True)


def test_the_glossary_prints_each_new_figure_definition():
    printed = dict(glossary())
    keys = [compliance_key(p.metric) for p in promises()] + [
        "improvements.feature",
        "improvements.optimisation",
        "improvements.feedback",
        "moderation.flags",
        "moderation.actions",
        "moderation.median_hours",
        "moderation.p90_hours",
        "moderation.automatic_precision",
        "moderation.appeal_reversals",
    ]
    for key in keys:
        spec = figure_spec(key)
        assert printed[spec.label].startswith(spec.definition), key
        assert spec.placed_by in printed[spec.label], key
