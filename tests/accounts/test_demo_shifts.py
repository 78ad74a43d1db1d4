"""The demo staff's shifts: on duty in the opening hours by turns, nobody at night, the demo logins always."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts import roles
from accounts.models import User
from accounts.routing import agents_available
from accounts.selectors import user_is_on_duty
from demo import core
from demo import messaging as demo_messaging
from demo.accounts import reviewers_ensure
from demo.moderation.simulator import moderators_ensure
from demo.shifts import TEAMS, shifts_phase
from demo.support.vocabulary import agents_ensure
from demo.work import demo_login
from support.services.triage import ANSWER_PERMISSION

TZ = ZoneInfo("Africa/Johannesburg")
MONDAY = date(2025, 6, 23)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@pytest.fixture
def staffed() -> dict[str, list[User]]:
    reviewers_ensure()
    moderators_ensure()
    agents_ensure()
    demo_messaging.agents_ensure()
    login = demo_login(roles.REVIEWER)
    ctx = core.DemoContext(seed=1, user_count=0, period=core.Period.ending(MONDAY))
    shifts_phase(ctx)
    assert ctx.created["demo shifts"] == sum(len(team) for team in TEAMS)
    teams = {team[0]: list(User.objects.filter(email__in=team).select_related("agent_profile")) for team in TEAMS}
    return {**teams, "login": [login]}


def on_duty(members: list[User], moment: datetime) -> list[str]:
    return sorted(user.email for user in members if user_is_on_duty(user=user, at=moment))


@pytest.mark.django_db
def test_every_team_is_on_duty_through_the_opening_hours_by_turns(staffed):
    teams = [members for key, members in staffed.items() if key != "login" and len(members) >= 4]
    assert len(teams) == 3  # reviewers, moderators, support agents
    for day in (MONDAY + timedelta(days=n) for n in range(7)):
        weekend = day.weekday() >= 5
        opens, closes = (8, 18) if weekend else (7, 22)
        for members in teams:
            for hour in range(opens, closes):
                working = on_duty(members, at(day, hour, 30))
                # Somebody is there, but never the whole team: the others are off.
                assert 0 < len(working) < len(members), (day, hour, working)
            assert on_duty(members, at(day, 3)) == []
            assert on_duty(members, at(day, closes, 30)) == []
    reviewers = staffed["reviewer2@saypro.example"]
    # Early and late shifts hand over at 14:30 on a weekday.
    assert on_duty(reviewers, at(MONDAY, 14, 0)) != on_duty(reviewers, at(MONDAY, 15, 0))


@pytest.mark.django_db
def test_routing_leaves_agents_off_shift_out_and_the_demo_login_is_always_on_duty(staffed):
    night, noon = at(MONDAY, 2), at(MONDAY, 12)
    agents = {profile.user.email for profile in agents_available(permission=ANSWER_PERMISSION, at=noon)}
    support = {user.email for user in staffed["support1@saypro.example"]}
    assert agents & support and not support <= agents
    assert not {p.user.email for p in agents_available(permission=ANSWER_PERMISSION, at=night)} & support
    assert user_is_on_duty(user=staffed["login"][0], at=night)


@pytest.mark.django_db
def test_seeding_shifts_twice_keeps_one_calendar_per_pattern(staffed):
    from saypro.sla.models import BusinessHours, Calendar

    before = BusinessHours.objects.count()
    shifts_phase(core.DemoContext(seed=1, user_count=0, period=core.Period.ending(MONDAY)))
    assert Calendar.objects.filter(kind=Calendar.Kind.BUSINESS).count() == 4
    assert BusinessHours.objects.count() == before == 4 * 6
