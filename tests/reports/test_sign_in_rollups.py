"""The active-user share, the users facing sign-in problems and the device mix read from rollups, against values
worked out here in plain Python over the same hand-built rows (never through the product's queries).

The sign-in and problem figures count distinct users by the instant of their events, so the rows sit at the edges:
a user who signed in only late on the period's last day, one who failed to sign in twice in the period and once in
the one before, sign-ins and problems on the day a running period's comparison span ends, before and after the
instant it ends, and users in two spellings of a region, in another, in none, and staff. Each is read with the
rollup stored, partly stored and not stored.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from accounts.models import AccountEvent, AccountSession, Lockout, PasswordReset
from reports import rollups
from reports.sections import ACCOUNTS, build_sections, context_for
from saypro import periods
from saypro.figures.registry import figure_read, spans
from tests.factories import RegistrationFactory, UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
JOINED = local(2026, 1, 5, 9)
Q3 = periods.from_slug("2026-Q3")
Q4 = periods.from_slug("2026-Q4")
# Q3 read once it ended; Q4 read while it runs: its comparison span is 1 July to 15 August, 14:00.
AFTER_Q3 = local(2026, 10, 2, 12)
IN_Q4 = local(2026, 11, 15, 14)

USERS = {"a": "Gauteng", "b": "gauteng", "c": "Western Cape", "d": "", "e": "Gauteng", "staff": "Gauteng"}
SIGN_INS = (
    ("a", local(2026, 9, 30, 23, 40)),  # only on Q3's last day, late in the evening
    ("b", local(2026, 7, 5, 8)),
    ("b", local(2026, 7, 5, 9)),  # twice on one day: one user
    ("b", local(2026, 10, 3, 9)),
    ("c", local(2026, 6, 30, 23, 50)),  # the day before Q3
    ("c", local(2026, 8, 15, 10)),  # before the comparison span's end on its last day
    ("d", local(2026, 8, 15, 16)),  # after it
    ("d", local(2026, 11, 15, 9)),
    ("e", local(2026, 3, 1, 10)),  # long before: back after 200 days, past the rollup's per-gap counts
    ("e", local(2026, 9, 17, 10)),
    ("staff", local(2026, 7, 10, 10)),
)
FAILED = (
    ("a", local(2026, 7, 2, 10)),
    ("a", local(2026, 8, 3, 10)),  # twice in Q3 ...
    ("a", local(2026, 5, 20, 10)),  # ... and once in Q2
    ("c", local(2026, 8, 15, 13, 59)),
    ("e", local(2026, 11, 1, 10)),
)
LOCKED = (("b", local(2026, 8, 15, 14, 1)), ("c", local(2026, 9, 30, 23, 59)))
RESETS = (("d", local(2026, 7, 1, 0, 0)), ("a", local(2026, 10, 20, 10)), ("staff", local(2026, 9, 1, 10)))
DEVICES = (("mobile", local(2026, 7, 3, 10)), ("mobile", local(2026, 9, 30, 22)), ("desktop", local(2026, 8, 1, 9)))


@pytest.fixture
def world():
    users = {
        name: UserFactory(region=region, date_joined=JOINED, is_staff=name == "staff") for name, region in USERS.items()
    }
    for name, at in SIGN_INS:
        AccountEvent.objects.create(user=users[name], kind=Kind.SIGN_IN, at=at)
    for name, at in FAILED:
        AccountEvent.objects.create(user=users[name], kind=Kind.SIGN_IN_FAILED, at=at, reason="bad_password")
    # A failure for an address no account has: no user to count.
    AccountEvent.objects.create(kind=Kind.SIGN_IN_FAILED, at=local(2026, 7, 8), identifier="x" * 64)
    for name, at in LOCKED:
        Lockout.objects.create(
            user=users[name], identifier=f"{name:x>64}", failures=5, started_at=at, until=at.replace(year=at.year + 1)
        )
    for name, at in RESETS:
        PasswordReset.objects.create(user=users[name], requested_at=at)
    for device, at in DEVICES:
        AccountSession.objects.create(user=users["a"], started_at=at, last_seen_at=at, device_type=device)
    return users


def in_region(name: str, region: str | None) -> bool:
    return region is None or USERS[name].lower() == region.lower()


def signed_in(start: datetime, end: datetime, region: str | None) -> set[str]:
    return {name for name, at in SIGN_INS if start <= at < end and name != "staff" and in_region(name, region)}


def with_problems(start: datetime, end: datetime, region: str | None) -> set[str]:
    events = (*FAILED, *LOCKED, *RESETS)
    return {name for name, at in events if start <= at < end and in_region(name, region)}


def store(how: str, now: datetime) -> None:
    last = {"stored": periods.today(now) - timedelta(days=1), "partly stored": date(2026, 8, 14)}.get(how)
    if last is not None:
        rollups.rollups_refresh(first=date(2026, 1, 1), last=last, now=now, names=["activity_returns"])


STORAGE = ["not stored", "partly stored", "stored"]
REGIONS = [None, "Gauteng", "GAUTENG", "Western Cape", "Limpopo"]


def test_the_hand_worked_edges():
    """The plain-Python model at the edges, so that it is itself checked."""
    _, (before_start, before_end) = spans(Q4, IN_Q4)
    assert before_end == local(2026, 8, 15, 14)
    assert signed_in(Q3.start_at, Q3.end_at, None) == {"a", "b", "c", "d", "e"}
    assert signed_in(before_start, before_end, None) == {"b", "c"}
    assert with_problems(Q3.start_at, Q3.end_at, None) == {"a", "b", "c", "d", "staff"}
    assert with_problems(before_start, before_end, None) == {"a", "c", "d"}
    assert with_problems(periods.from_slug("2026-Q2").start_at, Q3.start_at, None) == {"a"}


@pytest.mark.parametrize("how", STORAGE)
@pytest.mark.parametrize("region", REGIONS)
def test_active_share_counts_who_signed_in_by_the_instant(world, how, region):
    filters = {"region": region} if region else {}
    accounts = [name for name in USERS if name != "staff" and in_region(name, region)]
    for now, period in ((AFTER_Q3, Q3), (IN_Q4, Q4)):
        store(how, now)
        (start, end, _), (before_start, before_end) = spans(period, now)
        reading = figure_read("accounts.active_share", period, now=now, filters=filters)
        for got, (first, last) in ((reading.current, (start, end)), (reading.previous, (before_start, before_end))):
            assert got is not None
            expected = signed_in(first, last, region)
            assert (got.n, got.parts["active"]) == (len(accounts), len(expected)), (period.slug, first, last)
            assert got.value == (pytest.approx(100 * len(expected) / len(accounts)) if accounts else None)


@pytest.mark.parametrize("how", STORAGE)
@pytest.mark.parametrize("region", REGIONS)
def test_users_facing_sign_in_problems_are_counted_once_by_the_instant(world, how, region):
    filters = {"region": region} if region else {}
    for now, period in ((AFTER_Q3, Q3), (IN_Q4, Q4)):
        store(how, now)
        (start, end, _), (before_start, before_end) = spans(period, now)
        reading = figure_read("account_issues.login_problem_users", period, now=now, filters=filters)
        assert reading.previous is not None
        assert reading.current.value == len(with_problems(start, end, region)), (period.slug, how)
        assert reading.previous.value == len(with_problems(before_start, before_end, region)), (period.slug, how)


def test_a_span_longer_than_the_rollup_reaches_is_counted_from_the_events(world):
    year = periods.custom(date(2026, 1, 1), date(2026, 9, 30))
    reading = figure_read("account_issues.login_problem_users", year, now=AFTER_Q3, compare=False).current
    assert reading.value == len(with_problems(year.start_at, year.end_at, None))
    share = figure_read("accounts.active_share", year, now=AFTER_Q3, compare=False).current
    assert share.parts["active"] == len(signed_in(year.start_at, year.end_at, None)) == 5


@pytest.mark.parametrize("how", ["not stored", "stored"])
def test_the_device_mix_counts_the_sessions_and_sign_ups_of_the_period(world, how):
    for device, at in (("tablet", local(2026, 7, 9, 9)), ("mobile", local(2026, 9, 2, 9)), ("", local(2026, 8, 2))):
        RegistrationFactory(started_at=at, device_type=device)
    if how == "stored":
        rollups.rollups_refresh(first=date(2026, 1, 1), last=date(2026, 10, 1), now=AFTER_Q3)
    with time_machine.travel(AFTER_Q3, tick=False):
        sections = build_sections(context_for(Q3, AFTER_Q3), ACCOUNTS)
    table = next(t for s in sections for t in s.tables if t.key == "engagement_devices")
    assert table.rows == [["Desktop", 0, 1], ["Mobile", 1, 2], ["Tablet", 1, 0]]
