"""Choosing an agent: role, duty hours, language, region, then the lowest load across every app's desk."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts import roles
from accounts.models import AgentProfile
from accounts.routing import agent_load, agent_pick, load_register, users_with_perm
from saypro.sla.models import BusinessHours, Calendar
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JHB = ZoneInfo("Africa/Johannesburg")
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=JHB)
REVIEW = "accounts.review_registration"


@pytest.fixture
def desk(monkeypatch):
    """A load counter the test controls, registered the way an app registers its own."""
    from accounts import routing

    monkeypatch.setattr(routing, "_load_counters", {})
    loads: dict[int, int] = {}
    load_register("test", lambda ids: {pk: loads.get(pk, 0) for pk in ids})
    return loads


def agent(email: str, **profile) -> AgentProfile:
    user = UserFactory(email=email, roles=[roles.REVIEWER])
    return AgentProfile.objects.create(user=user, **profile)


def test_the_least_loaded_agent_is_chosen_and_ties_go_to_the_lowest_id(desk):
    first, second, third = agent("a@x.test"), agent("b@x.test"), agent("c@x.test")
    desk.update({first.user_id: 3, second.user_id: 1, third.user_id: 1})
    assert agent_pick(permission=REVIEW, at=MONDAY_10) == second.user
    desk[second.user_id] = 2
    assert agent_pick(permission=REVIEW, at=MONDAY_10) == third.user


def test_loads_of_every_registered_app_add_up(desk):
    one = agent("a@x.test")
    desk[one.user_id] = 2
    load_register("other", lambda ids: {pk: 5 for pk in ids})
    assert agent_load([one.user_id])[one.user_id] == 7


def test_language_and_region_must_match_and_an_empty_region_list_covers_all(desk):
    zulu = agent("zu@x.test", languages=["en", "zu"], regions=["KwaZulu-Natal"])
    french = agent("fr@x.test", languages=["fr"], regions=[])
    assert agent_pick(permission=REVIEW, language="zu", region="kwazulu-natal", at=MONDAY_10) == zulu.user
    assert agent_pick(permission=REVIEW, language="zu", region="Gauteng", at=MONDAY_10) is None
    assert agent_pick(permission=REVIEW, language="fr", region="Lagos", at=MONDAY_10) == french.user


def test_agents_off_shift_unavailable_full_or_without_the_role_are_passed_over(desk):
    shift = Calendar.objects.create(name="Early", kind="business", time_zone="Africa/Johannesburg")
    BusinessHours.objects.create(calendar=shift, weekday=0, start=time(6), end=time(9))
    agent("off-shift@x.test", working_hours=shift)
    agent("away@x.test", is_available=False)
    full = agent("full@x.test", max_open_items=2)
    desk[full.user_id] = 2
    no_role = AgentProfile.objects.create(user=UserFactory(email="plain@x.test"))
    assert agent_pick(permission=REVIEW, at=MONDAY_10) is None
    desk[full.user_id] = 1
    assert agent_pick(permission=REVIEW, at=MONDAY_10) == full.user
    assert agent_pick(permission=REVIEW, at=MONDAY_10, exclude=[full.user_id]) is None
    assert no_role.user not in users_with_perm(REVIEW)


def test_choosing_reads_the_agents_in_a_fixed_number_of_queries(desk, django_assert_max_num_queries):
    shift = Calendar.objects.create(name="Day", kind="business", time_zone="Africa/Johannesburg")
    BusinessHours.objects.create(calendar=shift, weekday=0, start=time(8), end=time(17))
    for n in range(8):
        agent(f"agent{n}@x.test", working_hours=shift)
    with django_assert_max_num_queries(4):
        assert agent_pick(permission=REVIEW, at=MONDAY_10) is not None
