"""The dashboard's tiles are computed once per refresh interval for everyone who may see the same promises."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from reports import tiles
from saypro.shared import REFRESH_SECONDS
from saypro.sla.services import clock_start

from .conftest import NOW, signup

pytestmark = pytest.mark.django_db

# /dashboard/ for a manager when the shared tiles are there (warm): the session, the user and their permissions, and
# the staffing alerts in force; the tiles come from the cache. Cold, the first request computes them: about 37
# queries (tests/reports/test_pages.py, DASHBOARD_QUERIES).
WARM_QUERIES = 12


def _open_count(response, metric: str = "registration.approval") -> int:
    tile = next(tile for tile in response.context["tiles"] if tile["metric"] == metric)
    return next(count["value"] for count in tile["counts"] if count["key"] == "open")


def test_a_manager_opens_the_dashboard_in_at_most_12_queries_once_the_tiles_are_shared(
    as_, quarter_data, django_assert_max_num_queries
):
    from .test_pages import DASHBOARD_QUERIES

    administrator = as_("administrator")
    with time_machine.travel(NOW, tick=False):
        # Cold: this request computes the tiles for every manager.
        with django_assert_max_num_queries(DASHBOARD_QUERIES):
            administrator.get("/dashboard/")
        manager = as_("manager")
        with django_assert_max_num_queries(WARM_QUERIES):
            response = manager.get("/dashboard/")
        with django_assert_max_num_queries(WARM_QUERIES):
            fragment = manager.get("/dashboard/tiles/")
    assert len(response.context["tiles"]) == 4
    assert response.context["as_of"] == NOW
    shown = f'As of <time datetime="{timezone.localtime(NOW).isoformat()}">{timezone.localtime(NOW):%H:%M:%S}</time>'
    assert shown in response.content.decode()
    assert shown in fragment.content.decode()


def test_the_tiles_are_kept_for_one_refresh_interval_and_say_since_when(as_, quarter_data):
    client = as_("manager")
    with time_machine.travel(NOW, tick=False):
        before = _open_count(client.get("/dashboard/"))
        clock_start(metric="registration.approval", target=signup(NOW - timedelta(hours=1)), at=NOW)
        cached = client.get("/dashboard/")
    assert _open_count(cached) == before and cached.context["as_of"] == NOW
    later = NOW + timedelta(seconds=REFRESH_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        fresh = client.get("/dashboard/")
    assert _open_count(fresh) == before + 1 and fresh.context["as_of"] == later
    assert f'As of <time datetime="{timezone.localtime(later).isoformat()}">' in fresh.content.decode()


def test_each_role_is_given_the_tiles_it_may_see_not_those_a_manager_warmed(as_, quarter_data):
    with time_machine.travel(NOW, tick=False):
        assert len(as_("manager").get("/dashboard/").context["tiles"]) == 4
        reviewer = as_("reviewer").get("/dashboard/")
        agent = as_("agent").get("/dashboard/")
    assert [tile["metric"] for tile in reviewer.context["tiles"]] == ["registration.approval"]
    assert "registration.approval" not in {tile["metric"] for tile in agent.context["tiles"]}
    assert agent.context["tiles"]


def test_a_burst_of_requests_computes_the_tiles_once():
    computed = []

    def compute(at):
        computed.append(at)
        time.sleep(0.3)  # long enough for every thread to arrive while the first computes
        return [{"metric": "x"}], "<p>x</p>"

    now = timezone.now()
    results: list[tiles.SharedTiles] = []
    barrier = threading.Barrier(6)

    def request():
        barrier.wait()
        results.append(tiles.shared("test:burst", compute, now=now, max_age=30))

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert [entry.tiles for entry in results] == [[{"metric": "x"}]] * 6
    assert {entry.as_of for entry in results} == {now}


def test_while_one_request_recomputes_stale_tiles_the_others_serve_the_previous_ones():
    then = timezone.now()
    tiles.shared("test:stale", lambda at: (["old"], ""), now=then, max_age=30)
    later = then + timedelta(seconds=31)
    assert cache.add("test:stale:lock", 1)  # another request is computing
    served = tiles.shared("test:stale", lambda at: (["new"], ""), now=later, max_age=30)
    assert (served.tiles, served.as_of) == (["old"], then)
    cache.delete("test:stale:lock")
    served = tiles.shared("test:stale", lambda at: (["new"], ""), now=later, max_age=30)
    assert (served.tiles, served.as_of) == (["new"], later)
