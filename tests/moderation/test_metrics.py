"""The metric selectors against figures computed by hand from one scripted stretch of moderation.

Day 0 starts at T0 (period [T0, T0 + 10 d), `now` = T0 + 5 d):
  A  user flags (fraud) at +1 h and +1 h 30; removed at +3 h; flagged again (fraud) at +4 d, kept at +4 d 1 h
  B  scam listing posted at +2 h: automatic case (fraud), kept at +8 h
  C  scam listing posted at +1 d: automatic case (fraud), a user's spam flag at +1 d 10 min, removed with a
     strike at +1 d 1 h; its author appeals at +4 d (pending)
  D  a user's spam flag at +2 d; removed late at +2 d 14 h; appealed at +3 d, upheld at +3 d 2 h
  E  a user's "other" flag at +3 d, still open at `now` (past its deadline)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace import services as market
from moderation import metrics, services
from moderation.models import Case
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SCAM = {
    "currency": "ZAR",
    "category": "phones",
    "region": "Gauteng",
    "price": "3000",
}


def at(offset: timedelta):
    return time_machine.travel(T0 + offset, tick=False)


def flag(listing, reason, offset, comment="Looks wrong"):
    with at(offset):
        services.flag_create(
            reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=reason, comment=comment
        )


def decide(listing, by, action, offset, rule="scam"):
    with at(offset):
        return services.case_decide(
            case=Case.objects.get(object_id=listing.pk), by=by, action=action, rule=rule, reason="Decided."
        )


def scam_listing(offset, title, capture):
    with at(offset), capture(execute=True):
        return market.listing_create(
            seller=UserFactory(),
            title=title,
            description=f"{title}: pay a deposit via Western Union and my shipping agent delivers. Call 071 234 5678.",
            **SCAM,
        )


@pytest.fixture
def scripted(moderator, django_capture_on_commit_callbacks):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    a, d, e = ListingFactory(), ListingFactory(), ListingFactory()
    flag(a, "fraud", HOUR)
    flag(a, "fraud", 1.5 * HOUR)
    decide(a, moderator, "remove", 3 * HOUR)
    b = scam_listing(2 * HOUR, "iPhone 14 Pro sealed box", django_capture_on_commit_callbacks)
    decide(b, moderator, "keep", 8 * HOUR)
    c = scam_listing(timedelta(days=1), "Samsung S23 Ultra brand new", django_capture_on_commit_callbacks)
    flag(c, "spam", timedelta(days=1, minutes=10))
    decide(c, moderator, "remove_warn", timedelta(days=1, hours=1))
    flag(d, "spam", timedelta(days=2))
    decide(d, moderator, "remove", timedelta(days=2, hours=14), rule="spam")
    with at(timedelta(days=3)):
        appeal = services.appeal_file(case=Case.objects.get(object_id=d.pk), by=d.seller, statement="Not spam.")
    with at(timedelta(days=3, hours=2)):
        services.appeal_decide(appeal=appeal, by=second, reverse=False, reason="It is spam.")
    flag(e, "other", timedelta(days=3))
    flag(a, "fraud", timedelta(days=4))
    decide(a, moderator, "keep", timedelta(days=4, hours=1))
    with at(timedelta(days=4)):
        services.appeal_file(case=Case.objects.get(object_id=c.pk), by=c.seller, statement="Mine.")
    return {"start": T0, "end": T0 + timedelta(days=10), "now": T0 + timedelta(days=5)}


def test_flags_and_cases_by_reason_and_source(scripted):
    flags = {
        (row["reason"], row["source"]): row["count"]
        for row in metrics.flags_by_reason_and_source(start=scripted["start"], end=scripted["end"])
        if row["count"]
    }
    assert flags == {("fraud", "user"): 3, ("fraud", "automatic"): 2, ("spam", "user"): 2, ("other", "user"): 1}
    cases = {
        (row["reason"], row["source"]): row["count"]
        for row in metrics.cases_by_reason_and_source(start=scripted["start"], end=scripted["end"])
        if row["count"]
    }
    assert cases == {("fraud", "user"): 1, ("fraud", "automatic"): 2, ("spam", "user"): 1, ("other", "user"): 1}
    # Every pair is listed, zeros included: 6 reasons × 2 sources.
    assert len(metrics.flags_by_reason_and_source(start=scripted["start"], end=scripted["end"])) == 12


def test_decided_within_twelve_hours(scripted):
    result = metrics.decided_within_target(start=scripted["start"], end=scripted["end"], now=scripted["now"])
    # In time: A (round 1), B, C, A (round 2); late: D (14 h), E (open past its deadline).
    assert (result.achieved, result.breached) == (4, 2)
    assert result.rate == pytest.approx(4 / 6)


def test_time_to_decision_median_and_p90(scripted):
    stats = metrics.time_to_decision(start=scripted["start"], end=scripted["end"])
    # 2 h (A), 6 h (B), 1 h (C), 14 h (D), 1 h (A again): sorted 1, 1, 2, 6, 14.
    assert stats.count == 5
    assert stats.median == pytest.approx(2 * 3600)
    assert stats.p90 == pytest.approx(14 * 3600)
    assert stats.average == pytest.approx(24 / 5 * 3600)


def test_actions_precision_recurrence_and_appeals(scripted):
    start, end = scripted["start"], scripted["end"]
    actions = metrics.actions_by_type(start=start, end=end)
    assert actions == {"keep": 2, "remove": 2, "remove_warn": 1, "suspend_user": 0, "ban_user": 0}
    # Automatic cases: B kept, C removed.
    precision = metrics.automatic_precision(start=start, end=end)
    assert (precision.part, precision.whole, precision.rate) == (1, 2, 0.5)
    # Removals A, C, D; A was flagged again after its removal.
    recurrence = metrics.recurrence_rate(start=start, end=end)
    assert (recurrence.part, recurrence.whole) == (1, 3)
    appeals = metrics.appeal_stats(start=start, end=end)
    assert (appeals.filed, appeals.decided, appeals.reversed, appeals.pending) == (2, 1, 0, 1)
    assert appeals.reversal_rate == 0.0


def test_the_period_bounds_are_half_open(scripted):
    later = scripted["start"] + timedelta(days=3)
    assert metrics.actions_by_type(start=later, end=scripted["end"])["keep"] == 1  # only A's second decision
    assert metrics.appeal_stats(start=scripted["start"], end=later).filed == 0  # D's appeal is at exactly +3 d


def test_the_dashboard_tile(scripted):
    with time_machine.travel(scripted["now"], tick=False):
        tile = metrics.moderation_tile()
    assert (tile.open, tile.at_risk, tile.breached) == (1, 0, 1)
    assert tile.compliance.breached == 2
