"""The public transparency page posts the support and moderation figures of the last whole months, as the
registry reads them (aggregates with n and the target), in the page and its CSV; ?months is bounded."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from saypro import periods
from saypro.figures.registry import figure_read, figure_specs
from support.views.oversight import PUBLIC_FIGURE_AREAS, PUBLIC_FIGURES_MAX_AGE
from tests.factories import UserFactory
from tests.reports.test_figure_definitions import local, ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 12, tzinfo=local(2026, 1, 1).tzinfo)


@pytest.fixture
def requester():
    """The tickets' requester: neither the name nor the address may reach the public page."""
    person = UserFactory(email="someone.private@example.com", full_name="Privatename Person")
    ticket(local(2026, 1, 14, 9), solved_after=10, user=person)
    ticket(local(2026, 2, 3, 9), solved_after=30, user=person)
    ticket(local(2026, 2, 10, 9), solved_after=2, user=person)
    return person


def _csv_figures(content: bytes) -> dict[tuple[str, str], list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode())))
    start = rows.index(["month", "area", "figure", "value", "n", "target"])
    return {(row[0], row[2]): row for row in rows[start + 1 :]}


def test_monthly_figures_match_the_registry_in_page_and_csv(client, requester, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        # One aggregate query or two per figure and month (tickets created and solved among them; a percentile
        # reads its rank with a second), however many tickets and decisions there are.
        monthly = [s for a in PUBLIC_FIGURE_AREAS for s in figure_specs(a) if not s.kinds or periods.MONTH in s.kinds]
        with django_assert_max_num_queries(2 * 3 * len(monthly) + 4):
            page = client.get("/help/transparency/")
        export = client.get("/help/transparency.csv")
        months = [periods.from_slug(s) for s in ("2025-12", "2026-01", "2026-02")]
        keys = [s.key for area in ("support", "moderation") for s in figure_specs(area) if not s.kinds]
        expected = {
            (m.slug, k): figure_read(k, m, now=timezone.now(), compare=False).current for m in months for k in keys
        }
    assert page.status_code == 200
    assert [m.slug for m in page.context["months"]] == ["2025-12", "2026-01", "2026-02"]
    html = page.content.decode()
    assert "February 2026" in html and "March 2026" not in html
    assert requester.email not in html and "Privatename" not in html
    # Each figure to a fixed number of decimals, as the reports print it: 50.0 %, not 50 % beside 94.3396 %.
    monthly = html[html.index('data-testid="monthly-figures"') :]
    assert "50.0 %" in monthly and not re.search(r"\d\.\d{3,}", monthly)
    figures = _csv_figures(export.content)
    assert set(expected) <= set(figures)
    for (month, key), reading in expected.items():
        _, area, _, value, n, target = figures[(month, key)]
        assert area in ("support", "moderation")
        assert value == ("" if reading.value is None else str(round(reading.value, 2))), key
        assert (n, target) == (str(reading.n), reading.target_text), key
    # January's one ticket was solved within 24 h, February's one of two.
    assert figures[("2026-01", "support.resolved_24h")][3:5] == ["100.0", "1"]
    assert figures[("2026-02", "support.resolved_24h")][3:5] == ["50.0", "2"]
    assert requester.email.encode() not in export.content


def test_months_parameter_is_bounded(client):
    for bad in ("0", "13", "-1", "abc", "2.5", "9" * 30):
        assert client.get("/help/transparency/", {"months": bad}).status_code == 400, bad
        assert client.get("/help/transparency.csv", {"months": bad}).status_code == 400, bad
    with time_machine.travel(NOW, tick=False):
        page = client.get("/help/transparency/", {"months": "1"})
    assert [m.slug for m in page.context["months"]] == ["2026-02"]


def test_each_months_figures_are_read_once_per_interval_for_every_visitor(
    client, requester, django_assert_max_num_queries
):
    """Anyone may load the page as often as they like: the months' figures are read once per interval, for everyone,
    and the page says when they were read; a late row shows once the interval has passed."""
    with time_machine.travel(NOW, tick=False) as clock:
        client.get("/help/transparency/")
        with django_assert_max_num_queries(4):  # the fortnight's summary, not one figure
            page = Client().get("/help/transparency/")
        assert "Figures as of 20 Mar, 12:00." in page.content.decode()
        ticket(local(2026, 2, 12, 9), solved_after=3, user=requester)  # solved in time, in February
        assert _csv_figures(client.get("/help/transparency.csv").content)[("2026-02", "support.resolved_24h")][3:5] == [
            "50.0",
            "2",
        ]
        clock.shift(timedelta(seconds=PUBLIC_FIGURES_MAX_AGE + 1))
        later = Client().get("/help/transparency/")
        assert "Figures as of 20 Mar, 12:10." in later.content.decode()
        figures = _csv_figures(client.get("/help/transparency.csv").content)
    assert figures[("2026-02", "support.resolved_24h")][3:5] == ["66.67", "3"]
