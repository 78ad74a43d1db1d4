"""The admin's big lists read an index (PostgreSQL): user search by a fragment, and the SLA clocks newest first."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.test import RequestFactory

from accounts.models import User
from saypro.sla.models import Clock

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are PostgreSQL's"),
]


def _plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        # The test tables are tiny: make the planner show the index it would use on a real one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def _changelist_queryset(model, superuser, **query):
    request = RequestFactory().get("/", query)
    request.user = superuser
    return site._registry[model].get_changelist_instance(request).get_queryset(request)


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.com", password="x")


def test_searching_users_by_a_fragment_reads_the_trigram_indexes(superuser):
    # Without the list's ORDER BY, which on a tiny table the planner serves from the date index instead.
    plan = _plan(_changelist_queryset(User, superuser, q="example.co").order_by())
    assert {"user_email_trgm", "user_full_name_trgm", "user_phone_trgm"} <= set(plan.replace('"', " ").split())
    assert "Seq Scan on accounts_user" not in plan


def test_the_clock_list_reads_its_order_from_the_primary_key(superuser):
    plan = _plan(_changelist_queryset(Clock, superuser)[:100])
    assert "Sort" not in plan and "sla_clock_pkey" in plan
