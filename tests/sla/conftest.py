"""Calendars and policies of a metric that belongs to the tests alone, so no app's handler or policy interferes."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from saypro.sla.models import BusinessHours, Calendar, Policy

METRIC = "test.metric"


def policy_of(
    calendar: Calendar, hours: float, *, name: str, warn=(75, 90), default: bool = False, metric: str = METRIC
) -> Policy:
    return Policy.objects.create(
        metric=metric,
        name=name,
        target=timedelta(hours=hours),
        warn_percents=list(warn),
        calendar=calendar,
        is_default=default,
    )


@pytest.fixture
def always_calendar(db) -> Calendar:
    return Calendar.objects.create(name="Around the clock (tests)", kind=Calendar.Kind.ALWAYS)


@pytest.fixture
def office_calendar(db) -> Calendar:
    """Monday to Friday, 08:00–17:00 in Johannesburg (UTC+2 all year)."""
    calendar = Calendar.objects.create(
        name="Office hours (tests)", kind=Calendar.Kind.BUSINESS, time_zone="Africa/Johannesburg"
    )
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=day, start=time(8), end=time(17)) for day in range(5)
    )
    return calendar


@pytest.fixture
def policy(always_calendar) -> Policy:
    """The default policy of the test metric: 8 hours around the clock, warnings at 75 % and 90 %."""
    return policy_of(always_calendar, 8, name="Eight hours", default=True)
