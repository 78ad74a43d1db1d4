"""The items behind every number of a compliance tile: one read-only page per number, listing its clocks."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Registration, RegistrationStatus
from moderation.models import Reason
from moderation.services import flag_create
from reports import selectors
from saypro.sla.models import Clock
from saypro.sla.promises import promises
from saypro.sla.services import clock_pause, clock_start, clock_stop
from tests.factories import ListingFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Africa/Johannesburg")
METRIC = "registration.approval"
ITEMS = f"/dashboard/promises/{METRIC}/items/"
# A Thursday: the week began on Monday 9 February, the month on the 1st, the quarter on 1 January.
NOW = datetime(2026, 2, 12, 12, 0, tzinfo=LOCAL)
H = timedelta(hours=1)


def registration(started: datetime, *, decided_after: float | None = None, paused_after: float | None = None):
    """A submitted registration whose 48-hour clock started at `started`; decided or paused some hours later."""
    item = RegistrationFactory(
        status=RegistrationStatus.NEEDS_REVIEW, submitted_at=started, started_at=started - timedelta(minutes=5)
    )
    clock_start(metric=METRIC, target=item, at=started)
    if decided_after is not None:
        clock_stop(metric=METRIC, target=item, at=started + decided_after * H)
    if paused_after is not None:
        clock_pause(metric=METRIC, target=item, at=started + paused_after * H)
    return item


@pytest.fixture
def clocks() -> dict[str, Registration]:
    """Seen at NOW (48 h deadlines, at risk from 36 h):

    open: a (in time), b (at risk), c (breached 2 h ago), d (paused) → open 4, at risk 1, breached 1.
    due this week: e met (Wed), f met (due at 11:00 today), c missed → 2 of 3.
    due earlier this month: h missed → month 2 of 4. Due in January: i met → quarter 3 of 5.
    g was decided in time but is due tomorrow: it counts once its deadline has passed. j was due last quarter.
    """
    with time_machine.travel(NOW, tick=False):
        return {
            "a": registration(NOW - 1 * H),
            "b": registration(NOW - 40 * H),
            "c": registration(NOW - 50 * H),
            "d": registration(NOW - 10 * H, paused_after=5),
            "e": registration(datetime(2026, 2, 9, 8, 0, tzinfo=LOCAL), decided_after=10),
            "f": registration(NOW - 49 * H, decided_after=44),
            "g": registration(NOW - 30 * H, decided_after=28),
            "h": registration(datetime(2026, 2, 2, 10, 0, tzinfo=LOCAL), decided_after=50),
            "i": registration(datetime(2026, 1, 10, 9, 0, tzinfo=LOCAL), decided_after=5),
            "j": registration(datetime(2025, 12, 20, 9, 0, tzinfo=LOCAL), decided_after=60),
        }


def shown(response) -> list[str]:
    """The items of a list page, in order, as their target ids."""
    return [str(row["id"]) for row in response.context["rows"]]


def ids(*items: Registration) -> list[str]:
    return [str(item.pk) for item in items]


def tile_of(response, metric: str = METRIC) -> dict:
    return next(tile for tile in response.context["tiles"] if tile["metric"] == metric)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona", ["reviewer", "manager"])
def test_every_number_on_the_tile_links_to_a_list_of_as_many_items(as_, clocks, persona):
    client = as_(persona)
    tile = tile_of(client.get("/dashboard/"))
    counts = {count["key"]: count for count in tile["counts"]}
    assert {key: count["value"] for key, count in counts.items()} == {"open": 4, "at_risk": 1, "breached": 1}
    achievements = {p["key"]: (p["value"], p["note"]) for p in tile["periods"]}
    assert achievements == {
        "week": ("66.7 %", "2 of 3"),
        "month": ("50.0 %", "2 of 4"),
        "quarter": ("60.0 %", "3 of 5"),
    }
    for count in tile["counts"]:
        page = client.get(count["url"])
        assert page.status_code == 200
        assert page.context["page"].paginator.count == count["value"], count["key"]
    for period in tile["periods"]:
        page = client.get(period["url"])
        achieved, decided = (int(n) for n in period["note"].split(" of "))
        assert page.context["page"].paginator.count == decided, period["key"]
        tabs = {tab["state"]: tab["count"] for tab in page.context["tabs"]}
        assert tabs == {"decided": decided, "met": achieved, "missed": decided - achieved}
        for state in ("met", "missed"):
            listed = client.get(ITEMS, {"state": state, "period": period["key"]})
            assert listed.context["page"].paginator.count == tabs[state]


@time_machine.travel(NOW, tick=False)
def test_every_tile_a_manager_sees_matches_its_lists(as_, clocks):
    client = as_("manager")
    tiles = client.get("/dashboard/").context["tiles"]
    assert {tile["metric"] for tile in tiles} == {p.metric for p in promises()}
    for tile in tiles:
        for count in tile["counts"]:
            assert client.get(count["url"]).context["page"].paginator.count == count["value"]
        for period in tile["periods"]:
            decided = int(period["note"].split(" of ")[1]) if " of " in period["note"] else 0
            assert client.get(period["url"]).context["page"].paginator.count == decided


@time_machine.travel(NOW, tick=False)
def test_lists_are_ordered_by_deadline_with_each_items_state_and_time(as_, clocks):
    client = as_("reviewer")
    a, b, c, d = (clocks[k] for k in "abcd")
    live = client.get(ITEMS, {"state": "open"})
    assert shown(live) == ids(c, b, d, a)
    rows = {str(row["id"]): row for row in live.context["rows"]}
    assert [row["state"] for row in live.context["rows"]] == ["breached", "at_risk", "paused", "open"]
    assert [row["timing"] for row in live.context["rows"]] == [
        "2 h 00 min overdue",
        "8 h 00 min left",
        "43 h 00 min left when resumed",
        "47 h 00 min left",
    ]
    assert rows[str(c.pk)]["url"] == f"/dashboard/registrations/{c.pk}/"
    quarter = client.get(ITEMS, {"state": "decided", "period": "quarter"})
    e, f, h, i = (clocks[k] for k in "efhi")
    assert shown(quarter) == ids(i, h, e, c, f)
    assert [row["state"] for row in quarter.context["rows"]] == ["met", "missed", "met", "breached", "met"]
    assert quarter.context["rows"][1]["timing"] == "2 h 00 min late"
    assert quarter.context["rows"][4]["timing"] == "In time, 4 h 00 min to spare"
    content = quarter.content.decode()
    assert 'data-testid="items"' in content and "Wed 4 Feb, 10:00" in content


@time_machine.travel(NOW, tick=False)
def test_items_show_whose_they_are_with_their_status_to_staff_who_may_read_them(as_, clocks):
    c = clocks["c"]
    c.user.full_name = "Thandi Mokoena"
    c.user.save(update_fields=["full_name"])
    for persona in ("reviewer", "manager"):
        response = as_(persona).get(ITEMS, {"state": "breached"})
        row = response.context["rows"][0]
        assert (row["label"], row["status"], row["url"]) == (
            "Thandi Mokoena",
            "Needs review",
            f"/dashboard/registrations/{c.pk}/",
        )
    # The manager reads the registration; only the reviewer is sent on to work the queue.
    assert response.context["queue_url"] == ""
    page = as_("manager").get(f"/dashboard/registrations/{c.pk}/")
    assert page.status_code == 200 and b"Thandi Mokoena" in page.content
    assert b'action="/dashboard/registrations/%d/approve/"' % c.pk not in page.content
    reviewer_view = as_("reviewer").get(ITEMS, {"state": "breached"})
    assert reviewer_view.context["queue_url"] == "/dashboard/registrations/?breached=on"


def test_staff_who_may_not_open_an_item_see_what_it_is_and_its_status_but_not_whose(as_, user):
    listing = ListingFactory(title="Mountain bike, barely used")
    with TestCase.captureOnCommitCallbacks(execute=True):
        flag = flag_create(reporter=user, kind="listing", object_id=listing.pk, reason=Reason.FRAUD)
    url = "/dashboard/promises/moderation.decision/items/"
    [row] = as_("manager").get(url).context["rows"]
    assert (row["label"], row["status"], row["url"]) == (f"Case #{flag.case_id}", "Open", "")
    [row] = as_("moderator").get(url).context["rows"]
    assert row["label"] == "Listing flagged: Fraud or scam"
    assert row["url"] == f"/dashboard/moderation/cases/{flag.case_id}/"


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("reviewer", {"registration.approval"}),
        ("agent", {"message.first_response", "ticket.resolution"}),
        ("moderator", {"message.first_response", "moderation.decision"}),
        ("manager", {"registration.approval", "message.first_response", "ticket.resolution", "moderation.decision"}),
        ("outsider", set()),
        ("user", set()),
    ],
)
def test_only_the_roles_that_see_a_tile_list_its_items(as_, persona, allowed):
    client = as_(persona)
    for promise in promises():
        for query in ({"state": "breached"}, {"state": "missed", "period": "month"}):
            status = client.get(f"/dashboard/promises/{promise.metric}/items/", query).status_code
            assert status == (200 if promise.metric in allowed else 403), (promise.metric, query)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(ITEMS)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_bad_parameters_get_a_clean_refusal(as_, clocks):
    client = as_("manager")
    assert client.get("/dashboard/promises/no.such/items/").status_code == 404
    for query in (
        {"state": "everything"},
        {"state": "met"},
        {"state": "open", "period": "week"},
        {"state": "missed", "period": "year"},
        {"state": ""},
    ):
        response = client.get(ITEMS, query)
        assert response.status_code == 400, query
        assert b'data-testid="items-bad-request"' in response.content
    # A page number out of range or not a number shows the nearest page.
    assert client.get(ITEMS, {"state": "open", "page": "999"}).context["page"].number == 1
    assert client.get(ITEMS, {"state": "open", "page": "x"}).status_code == 200


def test_a_list_with_nothing_in_it_says_so(as_):
    response = as_("manager").get(ITEMS, {"state": "at_risk"})
    assert response.status_code == 200 and b'data-testid="items-empty"' in response.content


@pytest.mark.parametrize("persona", ["reviewer", "manager"])
def test_list_queries_do_not_grow_with_the_rows(as_, persona):
    client = as_(persona)
    for hours_ago in (1, 2):
        registration(NOW - hours_ago * H)
    client.get(ITEMS)  # the session and permissions, loaded once
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(ITEMS).context["rows"]) == 2
    for hours_ago in range(3, 63):
        registration(NOW - hours_ago * 0.5 * H)
    with CaptureQueriesContext(connection) as many:
        response = client.get(ITEMS)
    assert len(response.context["rows"]) == 50 and response.context["page"].paginator.count == 62
    assert len(many) == len(few) <= 10
    second = client.get(ITEMS, {"state": "open", "page": "2"})
    assert len(second.context["rows"]) == 12
    first_due = [row["due_at"] for row in response.context["rows"]] + [row["due_at"] for row in second.context["rows"]]
    assert first_due == sorted(first_due)


def _plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test tables are tiny: make the planner show the index it would use on a real one.
            cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@time_machine.travel(NOW, tick=False)
def test_live_lists_read_the_open_clock_index_and_period_lists_the_deadline_index(clocks):
    now = NOW
    # As on a real table, most clocks have stopped: the partial index on open ones is the small one to read.
    stopped = Clock.objects.filter(metric=METRIC).first()
    copies = []
    for _ in range(3000):
        stopped.pk = None
        stopped.state = "stopped"
        copies.append(copy.copy(stopped))
    Clock.objects.bulk_create(copies)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_clock")
    # Each covers open clocks only (the unique one too: one open clock per metric and target).
    open_clock_indexes = ("clock_open_due", "clock_open_queue", "clock_open_risk", "clock_one_open_per_target")
    for state in ("open", "at_risk", "breached"):
        plan = _plan(selectors.promise_items(metric=METRIC, state=state, period=None, now=now))
        assert any(index in plan for index in open_clock_indexes), (state, plan)
    for state in ("decided", "met", "missed"):
        plan = _plan(selectors.promise_items(metric=METRIC, state=state, period="month", now=now))
        assert "clock_metric_due" in plan, state


@pytest.mark.parametrize("persona", ["reviewer", "agent", "moderator", "manager", "administrator"])
def test_every_item_links_to_its_page_for_exactly_the_roles_that_may_read_it(as_, persona):
    from django.urls import reverse

    from messaging.services import conversation_start
    from tests.factories import UserFactory
    from tests.support.conftest import make_ticket

    person = UserFactory(full_name="Ayanda Nkosi")
    registration(timezone.now() - H)
    make_ticket(person, subject="Payout missing")
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation_start(user=person, subject="Courier", body="Where is my parcel?")
        flag_create(reporter=UserFactory(), kind="listing", object_id=ListingFactory().pk, reason=Reason.FRAUD)
    client = as_(persona)
    listed = 0
    for promise in promises():
        response = client.get(f"/dashboard/promises/{promise.metric}/items/", {"state": "open"})
        if response.status_code == 403:
            continue
        for row in response.context["rows"]:
            listed += 1
            page = client.get(reverse(promise.item_url_name, args=[row["id"]]))
            # A link where the page opens, and no link where it would refuse.
            assert (row["url"] != "") == (page.status_code == 200), (promise.metric, row)
            assert page.status_code in (200, 403)
    assert listed > 0


def test_the_tiles_live_counts_read_in_one_query_match_each_clock_state(clocks, django_assert_num_queries):
    metrics = [promise.metric for promise in promises()]
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(1):
            counts = selectors.queue_counts_by_metric(metrics=metrics, now=NOW)
        for metric in metrics:
            states = [selectors.clock_state(clock, NOW) for clock in Clock.objects.filter(metric=metric)]
            live = [state for state in states if state not in (selectors.MET, selectors.MISSED)]
            recomputed = (len(live), live.count(selectors.AT_RISK), live.count(selectors.BREACHED))
            assert (counts[metric].open, counts[metric].at_risk, counts[metric].breached) == recomputed
    assert (counts[METRIC].open, counts[METRIC].at_risk, counts[METRIC].breached) == (4, 1, 1)
