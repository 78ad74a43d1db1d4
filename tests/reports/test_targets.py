"""Targets are data per figure and period: the documents' defaults, rows administrators add, the one in force for
a period, the read-only targets page for managers and the admin for administrators."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from saypro import periods
from saypro.errors import InvalidInput
from saypro.figures.models import Target
from saypro.figures.registry import target_specs
from saypro.figures.services import target_set
from saypro.figures.targets import TargetBook, target_for

pytestmark = pytest.mark.django_db

Q1, Q2, Q3 = (periods.from_slug(f"2026-Q{n}") for n in (1, 2, 3))

# The documents' targets, read from them (000, 003, 004), in each figure's unit.
DOCUMENT_TARGETS = {
    "registrations.approved_48h": 100,
    "support.resolved_24h": 95,
    "support.resolved_24h.weekly": 90,
    "support.first_response_hours": 3,
    "support.resolution_time_change": -20,
    "support.platform_issue_rate": 3,
    "support.csat_average": 4.5,
    "moderation.recurrence_rate": 0.5,
    "sla.moderation.decision": 100,
    "messaging.first_response_24h": 90,
    "messaging.first_response_24h.closing": 95,
    "messaging.resolution": 80,
    "messaging.resolution.general": 95,
    "messaging.resolution.support": 90,
    "messaging.resolution.complaint_policy": 85,
    "messaging.resolution.renewal": 90,
    "messaging.mix.general": 30,
    "messaging.mix.support": 40,
    "messaging.mix.complaint_policy": 10,
    "messaging.mix.renewal": 15,
    "messaging.mix.misc": 5,
    "messaging.volume": 20_000,
    "messaging.growth.low": 10,
    "messaging.growth.high": 15,
}


def test_the_documents_targets_are_the_defaults_of_every_period():
    for key, value in DOCUMENT_TARGETS.items():
        assert target_for(key, Q1) == value, key
        assert target_for(key, date(2019, 7, 1)) == value, key
    # Every registered target has a default row.
    assert {spec.key for spec in target_specs()} <= set(Target.objects.values_list("figure_key", flat=True))


def test_a_target_set_for_a_quarter_holds_from_it_on_and_leaves_earlier_quarters_alone(administrator):
    target_set(figure_key="support.csat_average", period_start=Q2.start, value=4.7, by=administrator)
    assert target_for("support.csat_average", Q1) == 4.5
    assert target_for("support.csat_average", Q2) == 4.7
    assert target_for("support.csat_average", Q3) == 4.7
    # A later correction for the same quarter wins; the earlier row stays as history.
    target_set(figure_key="support.csat_average", period_start=Q2.start, value=4.6, by=administrator)
    book = TargetBook()
    assert book.value("support.csat_average", Q2.start) == 4.6 == target_for("support.csat_average", Q2)
    assert [row.value for row in book.history("support.csat_average")] == [4.6, 4.7, 4.5]
    assert book.get("support.csat_average", Q3.start).set_by == administrator.get_username()


def test_setting_an_unknown_or_impossible_target_is_refused(administrator):
    with pytest.raises(InvalidInput):
        target_set(figure_key="support.nothing", period_start=Q2.start, value=1, by=administrator)
    with pytest.raises(InvalidInput):
        target_set(figure_key="support.csat_average", period_start=Q2.start, value=6, by=administrator)
    assert not Target.objects.filter(period_start=Q2.start).exists()


def test_the_target_book_reads_every_target_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        book = TargetBook()
    assert book.value("support.resolved_24h", Q2.start) == 95


@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 200), ("administrator", 200), ("agent", 403), ("reviewer", 403), ("outsider", 403), ("user", 403)],
)
def test_managers_and_administrators_read_the_targets_page(as_, persona, status):
    response = as_(persona).get(reverse("dashboard:targets"))
    assert response.status_code == status
    if status == 200:
        assert b"support.resolved_24h" in response.content


def test_the_targets_page_shows_the_target_in_force_for_the_quarter_asked_for(as_, administrator):
    target_set(figure_key="support.resolved_24h", period_start=Q2.start, value=97, by=administrator)
    client = as_("manager")
    q1 = client.get(reverse("dashboard:targets"), {"quarter": "2026-Q1"})
    q2 = client.get(reverse("dashboard:targets"), {"quarter": "2026-Q2"})
    q1_row = next(r for r in q1.context["rows"] if r["spec"].key == "support.resolved_24h")
    q2_row = next(r for r in q2.context["rows"] if r["spec"].key == "support.resolved_24h")
    assert (q1_row["in_force"], q2_row["in_force"]) == ("≥ 95 %", "≥ 97 %")
    assert b"Set a target" not in q2.content
    assert client.get(reverse("dashboard:targets"), {"quarter": "2026-13"}).status_code == 400
    assert client.get(reverse("dashboard:targets"), {"quarter": "2026-02"}).status_code == 400


def test_administrators_add_targets_in_the_admin_and_managers_cannot(as_):
    url = reverse("admin:figures_target_add")
    data = {"figure_key": "support.csat_average", "period_start": "2026-04-01", "value": "4.8", "note": "board"}
    assert as_("manager").post(url, data).status_code == 403
    response = as_("administrator").post(url, data)
    assert response.status_code == 302
    row = Target.objects.get(period_start=date(2026, 4, 1))
    assert (row.figure_key, row.value, row.set_by.get_username()) == (
        "support.csat_average",
        4.8,
        "admin@saypro.example",
    )
    refused = as_("administrator").post(url, {**data, "value": "9"})
    assert refused.status_code == 200 and "Between 1 and 5." in refused.content.decode()
    # A row once set is history: it cannot be changed or deleted.
    assert as_("administrator").post(reverse("admin:figures_target_change", args=[row.pk]), data).status_code == 403
    assert as_("administrator").post(reverse("admin:figures_target_delete", args=[row.pk])).status_code == 403
