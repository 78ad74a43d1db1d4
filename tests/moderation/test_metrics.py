"""The moderation figures (the registry's, as the figures page reads them) and the dashboard tile against figures
computed by hand from one scripted stretch of moderation.

Day 0 starts at T0 (period [T0, T0 + 10 d), `now` = T0 + 5 d):
  A  user flags (fraud) at +1 h and +1 h 30; removed at +3 h; flagged again (fraud) at +4 d, kept at +4 d 1 h
  B  scam listing posted at +2 h: automatic case (fraud), kept at +8 h
  C  scam listing posted at +1 d: automatic case (fraud), a user's spam flag at +1 d 10 min, removed with a
     strike at +1 d 1 h; its author appeals at +4 d (pending)
  D  a user's spam flag at +2 d; removed late at +2 d 14 h; appealed at +3 d, upheld at +3 d 2 h
  E  a user's "other" flag at +3 d, still open at `now` (past its deadline)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from marketplace import services as market
from moderation import metrics, services
from moderation.models import Case
from saypro import periods
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
# T0's local day (08:00 in Johannesburg).
FIRST_DAY = date(2026, 3, 2)
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


def figures(scripted, first=FIRST_DAY, days=10):
    """The registry's moderation figures (the page's and the reports') over whole local days from `first`."""
    period = periods.custom(first, first + timedelta(days=days - 1))
    return metrics.moderation_figures(period=period, now=scripted["now"])


def test_flags_by_reason_and_source(scripted):
    flags = figures(scripted)["moderation.flags"]
    assert flags.parts == {"fraud/user": 3, "fraud/automatic": 2, "spam/user": 2, "other/user": 1}
    assert flags.value == flags.n == 8


def test_decided_within_twelve_hours(scripted):
    result = metrics.decided_within_target(start=scripted["start"], end=scripted["end"], now=scripted["now"])
    # In time: A (round 1), B, C, A (round 2); late: D (14 h), E (open past its deadline).
    assert (result.achieved, result.breached) == (4, 2)
    assert result.rate == pytest.approx(4 / 6)


def test_time_to_decision_median_and_p90(scripted):
    read = figures(scripted)
    median, p90 = read["moderation.median_hours"], read["moderation.p90_hours"]
    # 2 h (A), 6 h (B), 1 h (C), 14 h (D), 1 h (A again): sorted 1, 1, 2, 6, 14; E is open past its 12 h.
    assert (median.n, median.value, p90.value) == (5, pytest.approx(2), pytest.approx(14))
    assert (median.pending, median.parts["open_late"]) == (0, 1)


def test_actions_precision_and_appeals(scripted):
    read = figures(scripted)
    assert read["moderation.actions"].parts == {"keep": 2, "remove": 2, "remove_warn": 1}
    # E is undecided.
    assert read["moderation.actions"].pending == 1
    # Automatic cases: B kept, C removed.
    precision = read["moderation.automatic_precision"]
    assert (precision.parts["upheld"], precision.n, precision.value) == (1, 2, 50)
    appeals = read["moderation.appeal_reversals"]
    assert (appeals.n, appeals.parts["reversed"], appeals.pending, appeals.value) == (1, 0, 1, 0)


def test_decisions_belong_to_the_day_the_content_was_first_flagged(scripted):
    # From the local day of +3 d: only E was first flagged then (still open); A's second decision, at +4 d, is
    # its first flag's period's.
    actions = figures(scripted, first=FIRST_DAY + timedelta(days=3), days=4)["moderation.actions"]
    assert (actions.value, actions.pending) == (0, 1)


def test_the_dashboard_tile(scripted):
    with time_machine.travel(scripted["now"], tick=False):
        tile = metrics.moderation_tile()
    assert (tile.open, tile.at_risk, tile.breached) == (1, 0, 1)
    assert tile.compliance.breached == 2
