"""DAU, WAU, MAU, stickiness, active share, churn and retention, for all users and by region, against values worked
out here in plain Python over the same hand-built activity rows (never through the product's queries).

Q3 2026 (1 July – 30 September), read two days after it ended; the period before it for churn is the 92 days from
31 March. The rows include users active on the quarter's last day, a week that spans June and July (29 June – 5
July), a user last active just outside the period before (30 March), and returns after gaps longer than the
rollup's per-gap counts reach (184 days). Regions: "Gauteng" in two spellings, the Western Cape, and none given.
The figures are read with the activity-returns rollup stored, partly stored and not stored at all.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from accounts import metrics
from accounts.models import AccountEvent, ActivityDay
from reports import rollups
from reports.activity_figures import retention_cohorts, returns
from reports.sources import ACTIVITY_USERS
from saypro import periods
from saypro.figures.registry import figure_read, figures_read
from tests.factories import UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 10, 2, 12)
Q3 = periods.from_slug("2026-Q3")
JULY = periods.from_slug("2026-07")
SPANNING_WEEK = periods.containing(periods.WEEK, date(2026, 6, 29))
JOINED = local(2025, 11, 1, 9)

# (name, region, active days)
PEOPLE = (
    ("a", "Gauteng", [date(2026, 4, 15), date(2026, 6, 29), date(2026, 7, 2), date(2026, 9, 30)]),
    ("b", "gauteng", [date(2026, 6, 30), date(2026, 7, 5), date(2026, 8, 20)]),
    ("c", "Western Cape", [date(2026, 5, 1), date(2026, 9, 30)]),
    ("d", "", [date(2026, 6, 1), date(2026, 7, 1)]),
    ("e", "Gauteng", [date(2026, 3, 30), date(2026, 9, 29)]),
    ("f", "Western Cape", [date(2025, 12, 2), date(2026, 9, 15)]),
    ("g", "Gauteng", [date(2026, 1, 10), date(2026, 7, 20)]),
    ("h", "Western Cape", [date(2026, 6, 10), date(2026, 6, 12)]),
)
# Who signed in, and when (active share counts sign-ins, not other activity).
SIGN_INS = (("a", local(2026, 9, 30, 23, 40)), ("b", local(2026, 7, 5, 8)), ("c", local(2026, 6, 30, 23, 50)))


@pytest.fixture
def world():
    users = {name: UserFactory(region=region, date_joined=JOINED) for name, region, _ in PEOPLE}
    for name, _, days in PEOPLE:
        for day in days:
            ActivityDay.objects.create(user=users[name], day=day, sign_ins=1)
    for name, at in SIGN_INS:
        AccountEvent.objects.create(user=users[name], kind=AccountEvent.Kind.SIGN_IN, at=at)
    return users


def people(region: str | None) -> dict[str, list[date]]:
    return {name: days for name, where, days in PEOPLE if region is None or where.lower() == region.lower()}


def active_between(region: str | None, first: date, end: date) -> set[str]:
    return {name for name, days in people(region).items() if any(first <= day < end for day in days)}


def expected_averages(region: str | None, period: periods.Period) -> dict[str, float]:
    days = period.day_list()
    dau = [len(active_between(region, day, day + timedelta(days=1))) for day in days]
    wau = [len(active_between(region, day - timedelta(days=6), day + timedelta(days=1))) for day in days]
    mau = [len(active_between(region, day - timedelta(days=29), day + timedelta(days=1))) for day in days]
    return {"dau": sum(dau) / len(days), "wau": sum(wau) / len(days), "mau": sum(mau) / len(days)}


def store(how: str) -> None:
    if how == "stored":
        rollups.rollups_refresh(first=date(2025, 11, 1), last=date(2026, 10, 1), now=NOW, names=["activity_returns"])
    elif how == "partly stored":
        # Up to the middle of August: the days after it are computed on the spot.
        rollups.rollups_refresh(first=date(2025, 11, 1), last=date(2026, 8, 14), now=NOW, names=["activity_returns"])


REGIONS = [None, "Gauteng", "GAUTENG", "Western Cape", "Limpopo"]
STORAGE = ["not stored", "partly stored", "stored"]


@pytest.mark.parametrize("how", STORAGE)
@pytest.mark.parametrize("region", REGIONS)
def test_active_users_and_stickiness_by_region(world, how, region):
    store(how)
    filters = {"region": region} if region else {}
    for period in (Q3, JULY, SPANNING_WEEK):
        expected = expected_averages(region, period)
        for key in ("dau", "wau", "mau"):
            reading = figure_read(f"engagement.{key}", period, now=NOW, filters=filters, compare=False).current
            assert reading.value == pytest.approx(expected[key]), (period.slug, key)
            assert reading.n == period.days
        sticky = figure_read("engagement.stickiness", period, now=NOW, filters=filters, compare=False).current
        if expected["dau"] and expected["mau"]:
            assert sticky.value == pytest.approx(100 * expected["dau"] / expected["mau"]), period.slug
        else:
            assert sticky.value is None


def test_the_hand_worked_values_of_the_quarter_and_the_spanning_week(world):
    """A few of the values above by hand, so the plain-Python model is itself checked."""
    # 30 September: a and c; the quarter's last day counts.
    assert active_between(None, date(2026, 9, 30), date(2026, 10, 1)) == {"a", "c"}
    # The week of 29 June: a (Mon 29 Jun, Thu 2 Jul), b (Tue 30 Jun, Sun 5 Jul), d (Wed 1 Jul).
    week = figure_read("engagement.wau", SPANNING_WEEK, now=NOW, compare=False).current
    # The 7 days ending on each day: 29 Jun: a (h's last day, 12 June, is too early); 30 Jun: a, b; 1 July to 5 July:
    # a, b and d.
    assert week.value == pytest.approx((1 + 2 + 3 + 3 + 3 + 3 + 3) / 7)


@pytest.mark.parametrize("how", STORAGE)
@pytest.mark.parametrize("region", REGIONS)
def test_churn_and_retention_by_region(world, how, region):
    store(how)
    filters = {"region": region} if region else {}
    before = active_between(region, date(2026, 3, 31), date(2026, 7, 1))
    during = active_between(region, date(2026, 7, 1), date(2026, 10, 1))
    churn = figure_read("engagement.churn", Q3, now=NOW, filters=filters, compare=False).current
    retention = figure_read("engagement.retention", Q3, now=NOW, filters=filters, compare=False).current
    assert churn.n == retention.n == len(before)
    if before:
        assert churn.value == pytest.approx(100 * len(before - during) / len(before))
        assert retention.value == pytest.approx(100 * len(before & during) / len(before))
        assert churn.parts["churned"] == len(before - during)
        assert retention.parts["retained"] == len(before & during)
    else:
        assert churn.value is None and retention.value is None


def test_churn_by_hand(world):
    # Active in the 92 days before Q3: a, b, c, d, h (e's 30 March is a day too early). Of them, h did not come back.
    assert figure_read("engagement.churn", Q3, now=NOW, compare=False).current.value == pytest.approx(20.0)
    # In the Western Cape: c came back, h did not.
    assert figure_read(
        "engagement.churn", Q3, now=NOW, filters={"region": "western cape"}, compare=False
    ).current.value == pytest.approx(50.0)


@pytest.mark.parametrize("region", REGIONS)
def test_active_share_by_region(world, region):
    filters = {"region": region} if region else {}
    accounts = people(region)
    signed_in = {name for name, at in SIGN_INS if Q3.start_at <= at < Q3.end_at and name in accounts}
    reading = figure_read("accounts.active_share", Q3, now=NOW, filters=filters, compare=False).current
    assert reading.n == len(accounts)
    assert reading.value == (pytest.approx(100 * len(signed_in) / len(accounts)) if accounts else None)


@pytest.mark.parametrize("how", ["not stored", "stored"])
def test_the_rollup_counts_the_same_distinct_users_as_the_raw_rows_over_every_span(world, how):
    store(how)
    first, end = date(2026, 3, 30), date(2026, 10, 2)
    for region in (None, "gauteng", "western cape", "limpopo"):
        rows = returns(NOW, first, end, region)
        days = ActivityDay.objects.filter(day__gte=first, day__lt=end)
        if region is not None:
            days = days.filter(user__region__iexact=region)
        raw = list(days.values_list("user_id", "day"))
        for start in (first, date(2026, 3, 31), date(2026, 6, 29), date(2026, 7, 1), date(2026, 9, 30)):
            for stop in (date(2026, 7, 1), date(2026, 7, 6), date(2026, 9, 30), date(2026, 10, 1)):
                if start < stop:
                    expected = len({user for user, day in raw if start <= day < stop})
                    assert rows.distinct(start, stop) == expected, (region, start, stop)


@pytest.mark.parametrize("how", ["not stored", "stored"])
def test_the_rollup_backed_figures_equal_the_raw_table_figures(world, how):
    store(how)
    reader = rollups.Reader(NOW)
    for period in (
        Q3,
        JULY,
        SPANNING_WEEK,
        periods.from_slug("2026-W40"),
        periods.custom(date(2026, 2, 1), Q3.last_day),
    ):
        for region in (None, "Gauteng", "Western Cape"):
            filters = {"region": region} if region else {}
            raw = metrics.churn(start=period.start_at, end=min(period.end_at, NOW), region=region)
            churn = figure_read("engagement.churn", period, now=NOW, filters=filters, compare=False).current
            assert (churn.n, churn.parts["churned"]) == (raw.previous_active, raw.churned), (period.slug, region)
        # The daily rollup of trailing windows counts them with one raw query per day.
        first, end = period.start, min(period.end, periods.today(NOW) + timedelta(days=1))
        daily = reader.daily(ACTIVITY_USERS, first, end)
        for key in ("dau", "wau", "mau"):
            mean = sum(values[key] for values in daily.values()) / (end - first).days
            reading = figure_read(f"engagement.{key}", period, now=NOW, compare=False).current
            assert reading.value == pytest.approx(mean), (period.slug, key)


def test_the_engagement_figures_share_their_reads(world, django_assert_max_num_queries):
    rollups.rollups_refresh(first=date(2025, 11, 1), last=date(2026, 10, 1), now=NOW, names=["activity_returns"])
    keys = [
        "engagement.dau",
        "engagement.wau",
        "engagement.mau",
        "engagement.stickiness",
        "engagement.churn",
        "engagement.retention",
    ]
    # This period and the one before, two ranges each (the trailing windows' and churn's), the coverage and the
    # targets.
    with django_assert_max_num_queries(6):
        readings = figures_read(keys, Q3, now=NOW, filters={"region": "Gauteng"})
    assert all(r.previous is not None for r in readings)
    for _ in range(6):
        user = UserFactory(region="Gauteng", date_joined=JOINED)
        ActivityDay.objects.create(user=user, day=date(2026, 8, 1), sign_ins=1)
    rollups.rollups_refresh(first=date(2026, 8, 1), last=date(2026, 8, 1), now=NOW, names=["activity_returns"])
    with django_assert_max_num_queries(6):
        figures_read(keys, Q3, now=NOW, filters={"region": "Gauteng"})


def test_a_stored_day_is_read_again_after_a_rebuild(world):
    """The rebuild rewrites the days it covers: a user's activity added later is counted once rebuilt."""
    store("stored")
    late = UserFactory(region="Gauteng", date_joined=JOINED)
    ActivityDay.objects.create(user=late, day=date(2026, 9, 30), sign_ins=1)
    last_day = periods.custom(date(2026, 9, 30), date(2026, 9, 30))
    assert figure_read("engagement.dau", last_day, now=NOW, compare=False).current.value == 2
    rollups.rollups_refresh(first=date(2026, 9, 30), last=date(2026, 9, 30), now=NOW, names=["activity_returns"])
    assert figure_read("engagement.dau", last_day, now=NOW, compare=False).current.value == 3


@pytest.fixture
def cohorts(world):
    """Sign-ups of Q3 in four weeks, one of them staff (never in a cohort), one on the quarter's last Monday."""
    for joined, days, staff in (
        (local(2026, 7, 1, 9), [date(2026, 7, 1), date(2026, 7, 8)], False),
        (local(2026, 7, 6, 10), [date(2026, 7, 6), date(2026, 7, 14), date(2026, 8, 3), date(2026, 9, 30)], False),
        (local(2026, 7, 12, 23, 30), [date(2026, 7, 13), date(2026, 9, 28)], False),
        (local(2026, 7, 20, 8), [date(2026, 7, 21)], True),
        (local(2026, 8, 10, 8), [], False),
        (local(2026, 9, 28, 8), [date(2026, 9, 30)], False),
    ):
        user = UserFactory(region="Western Cape", date_joined=joined, is_staff=staff)
        for day in days:
            ActivityDay.objects.create(user=user, day=day, sign_ins=1)


@pytest.mark.parametrize("how", STORAGE)
def test_the_retention_tables_from_the_rollup_equal_those_from_the_raw_rows(cohorts, how):
    store(how)
    reader = rollups.Reader(NOW)
    for period in (Q3, JULY, periods.from_slug("2026-08"), periods.custom(date(2026, 1, 1), Q3.last_day)):
        end = min(period.end_at, NOW)
        raw = metrics.retention_cohorts(start=period.start_at, end=end, weeks=12)
        rolled = retention_cohorts(reader, start=period.start_at, end=end, weeks=12)
        assert rolled == raw, period.slug
    # By hand: of the cohort of 6 July (two members; the one who joined late on Sunday 12 July is in it), one was
    # active in its week 0, both in week 1, one in week 4 and both in week 12 (28–30 September).
    july_6 = next(
        c for c in retention_cohorts(reader, start=Q3.start_at, end=Q3.end_at, weeks=12) if c.week == date(2026, 7, 6)
    )
    assert (july_6.size, july_6.returned[:2], july_6.returned[4], july_6.returned[12]) == (2, [1, 2], 1, 2)


def test_the_accounts_page_for_a_region_splits_the_engagement_figures(world, as_):
    store("stored")
    with time_machine.travel(NOW, tick=False):
        page = as_("manager").get(
            "/dashboard/areas/accounts/", {"period": "quarter", "day": "2026-07-01", "region": "Gauteng"}
        )
    assert page.status_code == 200
    shown = {f.key: f for section in page.context["sections"] for f in section.figures}
    for key in ("engagement.dau", "engagement.wau", "engagement.mau", "engagement.churn", "accounts.active_share"):
        assert shown[key].not_split_by == [], key
        assert shown[key].value == figure_read(key, Q3, now=NOW, filters={"region": "gauteng"}).current.value, key
    assert shown["engagement.dau"].value == pytest.approx(expected_averages("Gauteng", Q3)["dau"])
