"""Engagement against hand-computed values: DAU, and WAU and MAU over the trailing 7 and 30 days of each day.

The week of Monday 2 March 2026, read on 10 March. Activity days: u1 on 10 Feb, 2 and 3 March (a sign-in each);
u2 on 2 March (two messages); u3 on 25 February only.
  2 Mar: DAU 2 (u1, u2); WAU 3 (u3's 25 Feb is within 7 days); MAU 3.
  3 Mar: DAU 1; WAU 3; MAU 3.      4–8 Mar: DAU 0; WAU 2 (u1, u2); MAU 3.
Averages over the 7 days: DAU 3/7, WAU 16/7, MAU 3, stickiness (3/7) ÷ 3 = 14.3 %.
Churn: active in the week before, u3; not active in this week: 1 ÷ 1 = 100 %.
"""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from accounts.models import ActivityDay, ActivityHour
from reports import rollups
from reports.sections import context_for
from reports.sections.accounts import engagement_section
from saypro import periods
from tests.factories import UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 10, 12, 0)
WEEK = periods.containing(periods.WEEK, date(2026, 3, 2))


@pytest.fixture
def activity():
    u1, u2, u3 = UserFactory(), UserFactory(), UserFactory()
    for user, day, fields in (
        (u1, date(2026, 2, 10), {"sign_ins": 1}),
        (u1, date(2026, 3, 2), {"sign_ins": 1}),
        (u1, date(2026, 3, 3), {"sign_ins": 1}),
        (u2, date(2026, 3, 2), {"messages_sent": 2}),
        (u3, date(2026, 2, 25), {"sign_ins": 1}),
    ):
        ActivityDay.objects.create(user=user, day=day, **fields)
    for day, hour, actions in ((date(2026, 3, 2), 9, 5), (date(2026, 3, 2), 14, 2), (date(2026, 3, 3), 9, 1)):
        ActivityHour.objects.create(day=day, hour=hour, actions=actions)


@pytest.mark.parametrize("stored", [False, True], ids=["computed on the spot", "from stored rollups"])
def test_active_users_stickiness_features_hours_and_churn(activity, stored):
    if stored:
        rollups.rollups_refresh(first=date(2026, 2, 1), last=date(2026, 3, 9), now=NOW, names=["activity"])
    with time_machine.travel(NOW, tick=False):
        section = engagement_section(context_for(WEEK, NOW))
    values = {f.key: f.value for f in section.figures}
    assert values["engagement.dau"] == pytest.approx(3 / 7)
    assert values["engagement.wau"] == pytest.approx(16 / 7)
    assert values["engagement.mau"] == pytest.approx(3.0)
    assert values["engagement.stickiness"] == pytest.approx(100 / 7)
    assert values["engagement.churn"] == 100.0
    features = {row[0]: row[1:] for row in next(t for t in section.tables if t.key == "engagement_features").rows}
    assert features["Sign-ins"] == [2, 2, pytest.approx(66.7)]
    assert features["Messages sent"] == [2, 1, pytest.approx(33.3)]
    hours = next(c for c in section.charts if c.key == "engagement_hours").series[0].values
    assert (hours[9], hours[14], sum(hours)) == (6.0, 2.0, 8.0)
    weekdays = next(c for c in section.charts if c.key == "engagement_weekdays").series[0].values
    assert list(weekdays) == [2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    daily = next(c for c in section.charts if c.key == "engagement_active")
    assert [s.values[:3] for s in daily.series] == [[2.0, 1.0, 0.0], [3.0, 3.0, 2.0], [3.0, 3.0, 3.0]]


def test_the_daily_chart_of_a_running_period_ends_today(activity):
    """Read on Wednesday 4 March, the week of 2 March has three days so far: the chart stops at today."""
    now = local(2026, 3, 4, 12, 0)
    with time_machine.travel(now, tick=False):
        daily = next(c for c in engagement_section(context_for(WEEK, now)).charts if c.key == "engagement_active")
    assert daily.labels == ["02 Mar", "03 Mar", "04 Mar"]
    assert all(len(s.values) == 3 for s in daily.series)
