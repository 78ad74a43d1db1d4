from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.models import AgentProfile
from accounts.selectors import agent_is_on_duty
from saypro.sla.models import BusinessHours, Calendar

pytestmark = pytest.mark.django_db
JHB = ZoneInfo("Africa/Johannesburg")


def test_agent_is_on_duty_inside_their_shift_and_when_available(agent):
    shift = Calendar.objects.create(name="Day shift", kind="business", time_zone="Africa/Johannesburg")
    for weekday in range(5):
        BusinessHours.objects.create(calendar=shift, weekday=weekday, start=time(8), end=time(17))
    profile = AgentProfile.objects.create(user=agent, languages=["en"], working_hours=shift)
    monday_morning = datetime(2026, 3, 2, 9, 0, tzinfo=JHB)
    assert agent_is_on_duty(profile=profile, at=monday_morning)
    assert not agent_is_on_duty(profile=profile, at=datetime(2026, 3, 2, 17, 0, tzinfo=JHB))
    assert not agent_is_on_duty(profile=profile, at=datetime(2026, 3, 7, 10, 0, tzinfo=JHB))  # Saturday
    profile.is_available = False
    assert not agent_is_on_duty(profile=profile, at=monday_morning)


def test_agent_without_a_shift_calendar_is_always_on_duty(agent):
    profile = AgentProfile.objects.create(user=agent)
    assert agent_is_on_duty(profile=profile, at=datetime(2026, 3, 8, 3, 0, tzinfo=JHB))
