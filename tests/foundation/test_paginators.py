"""Admin change lists on big tables: the planner's estimate unfiltered (PostgreSQL), a capped count filtered; and
the page navigation every paginated list shares."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import render_to_string

from saypro import paginators
from saypro.audit.models import AuditEntry
from saypro.audit.services import audit_record
from saypro.paginators import EstimatedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(user):
    for n in range(5):
        audit_record(actor=None, action=f"test.action{n % 2}", target=user, reason=str(n))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {AuditEntry._meta.db_table}")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the row estimate is PostgreSQL's")
def test_an_unfiltered_list_of_a_big_table_reads_the_planner_estimate(entries, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(paginators, "EXACT_BELOW", 1)
    paginator = EstimatedCountPaginator(AuditEntry.objects.all(), 2)
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 5
    assert "reltuples" in captured.captured_queries[0]["sql"]


def test_a_small_table_is_counted_exactly(entries):
    assert EstimatedCountPaginator(AuditEntry.objects.all(), 2).count == 5


def test_a_filtered_list_counts_no_further_than_the_cap(entries, monkeypatch):
    monkeypatch.setattr(paginators, "CAP", 1)
    filtered = AuditEntry.objects.filter(action__startswith="test.")
    assert EstimatedCountPaginator(filtered, 2).count == 2
    monkeypatch.setattr(paginators, "CAP", 100)
    assert EstimatedCountPaginator(filtered, 2).count == 5


def test_page_navigation_keeps_the_lists_filters_on_both_links():
    page = Paginator(list(range(30)), 10).get_page(2)
    html = render_to_string("_page_nav.html", {"page": page, "filter_query": "view=at_risk&q=ada"})
    assert 'href="?view=at_risk&amp;q=ada&amp;page=1">← Previous' in html
    assert 'href="?view=at_risk&amp;q=ada&amp;page=3">Next →' in html
    assert "Page 2 of 3" in html


def test_page_navigation_is_left_out_when_everything_fits_on_one_page():
    page = Paginator(list(range(5)), 10).get_page(1)
    assert render_to_string("_page_nav.html", {"page": page}).strip() == ""


def test_bounded_counts_are_exact_up_to_the_cap_and_say_so_beyond_it(entries, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(paginators, "QUEUE_COUNT_CAP", 3)
    with django_assert_num_queries(1):
        counts = paginators.bounded_counts(
            {
                "even": AuditEntry.objects.filter(action="test.action0"),
                "all": AuditEntry.objects.all(),
                "none": AuditEntry.objects.none().filter(pk=0),
            }
        )
    assert counts == {"even": 3, "all": 3, "none": 0}
    assert [str(count) for count in counts.values()] == ["3", "3+", "0"]
    assert counts["even"].exact and not counts["all"].exact and not counts["none"]
