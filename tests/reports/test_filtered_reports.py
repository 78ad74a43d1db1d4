"""Reports narrowed by the documents' custom filters (004: inquiry type, ad category, region): the run keeps its
filters, every figure equals the metrics API's with the same filters, and a figure that cannot be split by a
filter says so in every format instead of passing the whole marketplace's value off as the filtered one."""

from __future__ import annotations

import io

import pytest
import time_machine
from openpyxl import load_workbook
from rest_framework.test import APIClient

from reports import services
from reports.figures import FIGURE_FILTERS
from reports.models import ReportRun
from reports.render.pdf import render_pdf
from reports.render.sheets import render_csv, render_xlsx
from reports.sections import build_document
from saypro.figures.registry import figure_spec

from .test_figure_consistency import NOW, Q1, _pdf_text, world  # noqa: F401  (the data, a fixture)

pytestmark = pytest.mark.django_db

WESTERN_CAPE = {"region": "Western Cape"}


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "filters",
    [WESTERN_CAPE, {"region": "gauteng", "category": "support"}, {"ad_category": "Vehicles"}],
    ids=["region", "region and inquiry type", "ad category"],
)
@pytest.mark.usefixtures("world")
def test_a_filtered_report_has_the_metrics_api_figures_and_says_what_is_not_split(manager, filters):
    with time_machine.travel(NOW, tick=False):
        document = build_document(kind="quarterly", period=Q1, now=NOW, filters=filters)
        query = {"period": "quarter", "day": "2026-03-20", **filters}
        api = _api(manager).get("/api/v1/metrics/figures/", query).json()
        unfiltered = _api(manager).get("/api/v1/metrics/figures/", {"period": "quarter", "day": "2026-03-20"}).json()
        sections = _api(manager).get("/api/v1/metrics/", query).json()["sections"]
    assert api["filters"] == filters and document.filters == filters
    by_key = {f["key"]: f for f in api["figures"]}
    whole = {f["key"]: f["current"]["value"] for f in unfiltered["figures"]}
    figures = {f.key: f for _, f in document.figures()}
    narrowed = 0
    ordered = [name for name in FIGURE_FILTERS if name in filters]
    for key, expected in by_key.items():
        figure, dimensions = figures[key], figure_spec(key).dimensions
        assert (figure.value, figure.n) == (expected["current"]["value"], expected["current"]["n"]), key
        assert figure.previous == expected["previous"]["value"], key
        assert figure.not_split_by == [name for name in ordered if name not in dimensions], key
        if figure.not_split_by:
            assert "not split by" in figure.sample_text, key
        narrowed += whole[key] != figure.value
    # The report sections through the metrics API carry the same values and the same marks.
    for section in sections:
        for shown in section["figures"]:
            assert (shown["value"], shown["not_split_by"]) == (
                figures[shown["key"]].value,
                figures[shown["key"]].not_split_by,
            )
    # A figure with none of the dimensions (help-center questions have no channel, priority or region) is never
    # split.
    assert figures["support.deflection_rate"].not_split_by == ordered
    if filters == WESTERN_CAPE:
        # No Western Cape conversation, user or ticket in the data: the split figures have nothing to count.
        assert figures["messaging.volume"].value == 0 and whole["messaging.volume"] == 4
        assert figures["account_issues.failed_sign_ins"].value == 0
        assert figures["support.resolved_24h"].not_split_by == ["region"]
        assert narrowed >= 5

    # Every format says which filters applied.
    pdf = _pdf_text(render_pdf(document))
    assert "Filtered: " in pdf and all(value in pdf for value in filters.values())
    assert "not split by" in pdf
    csv_rows = [line.split(",") for line in render_csv(document).decode().splitlines()[1:]]
    assert {(row[2], row[4]) for row in csv_rows if row[:2] == ["report", "filters"]} == set(filters.items())
    not_split = {row[2]: row[4] for row in csv_rows if row[1] == "figures" and row[3] == "not_split_by"}
    assert not_split["support.deflection_rate"] == " ".join(ordered)
    about = {
        row[0]: row[1]
        for row in load_workbook(io.BytesIO(render_xlsx(document))).worksheets[0].iter_rows(max_row=7, values_only=True)
        if row[0]
    }
    assert about["Filters"].startswith("Filtered: ") and all(value in about["Filters"] for value in filters.values())


@pytest.mark.usefixtures("world")
def test_an_unfiltered_report_marks_nothing():
    with time_machine.travel(NOW, tick=False):
        document = build_document(kind="quarterly", period=Q1, now=NOW)
    assert document.filters == {} and document.filters_note == ""
    assert all(not figure.not_split_by for _, figure in document.figures())


@pytest.mark.usefixtures("world")
def test_runs_are_one_per_kind_period_and_filters_and_generate_with_them(manager):
    with time_machine.travel(NOW, tick=False):
        whole = services.report_request(kind="quarterly", period=Q1, by=manager)
        cape = services.report_request(kind="quarterly", period=Q1, by=manager, filters=WESTERN_CAPE)
        # Regions match in any case: the same run, asked for again.
        again = services.report_request(kind="quarterly", period=Q1, by=manager, filters={"region": " western cape "})
        mixed = services.report_request(
            kind="quarterly", period=Q1, by=manager, filters={**WESTERN_CAPE, "category": ""}
        )
    assert len({whole.pk, cape.pk}) == 2 and again.pk == cape.pk == mixed.pk
    assert (whole.filters, cape.filters) == ({}, WESTERN_CAPE)
    assert ReportRun.objects.count() == 2
    assert cape.file_stem == "saypro-quarterly-2026-Q1-region-western-cape"
    assert "Region: Western Cape" in str(cape)
    with time_machine.travel(NOW, tick=False):
        services.report_generate(run_id=cape.pk, now=NOW)
    cape.refresh_from_db()
    assert cape.status == "done" and cape.document["filters"] == WESTERN_CAPE
    figures = {f["key"]: f for s in cape.document["sections"] for f in s["figures"]}
    assert figures["messaging.volume"]["value"] == 0
    assert figures["registrations.approved_48h"]["not_split_by"] == ["region"]


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"category": "nonsense"}, "category"), ({"region": "x" * 101}, "region"), ({"channel": "chat"}, "channel")],
)
def test_the_service_refuses_bad_filters_field_by_field(manager, filters, field):
    from saypro.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.report_request(kind="quarterly", period=Q1, by=manager, filters=filters)
    assert field in refused.value.fields
    assert not ReportRun.objects.exists()


def test_the_reports_page_takes_filters_and_shows_bad_ones_as_form_errors(as_):
    client = as_("manager")
    with time_machine.travel(NOW, tick=False):
        bad = client.post(
            "/dashboard/reports/", {"kind": "monthly", "day": "2026-03-01", "category": "x", "region": "y" * 101}
        )
        assert bad.status_code == 200
        assert set(bad.context["form"].errors) == {"category", "region"}
        assert not ReportRun.objects.exists()
        good = client.post(
            "/dashboard/reports/",
            {"kind": "monthly", "day": "2026-03-01", "category": "complaint", "ad_category": "Vehicles"},
        )
        run = ReportRun.objects.get()
        assert good.status_code == 302 and good["Location"] == f"/dashboard/reports/{run.pk}/"
        assert run.filters == {"category": "complaint", "ad_category": "Vehicles"}
        page = client.get("/dashboard/reports/")
    assert "Inquiry type: complaint · Ad category: Vehicles" in page.content.decode()


def test_the_api_creates_filtered_runs_and_answers_bad_input_in_its_error_shape(manager, reviewer):
    with time_machine.travel(NOW, tick=False):
        bad = _api(manager).post(
            "/api/v1/metrics/reports/", {"kind": "weekly", "day": "2026-03-02", "category": "x"}, format="json"
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid" and "category" in bad.json()["error"]["fields"]
        missing = _api(manager).post("/api/v1/metrics/reports/", {"kind": "weekly"}, format="json")
        assert missing.status_code == 400 and "day" in missing.json()["error"]["fields"]
        assert _api(reviewer).post("/api/v1/metrics/reports/", {}, format="json").status_code == 403
        created = _api(manager).post(
            "/api/v1/metrics/reports/", {"kind": "weekly", "day": "2026-03-02", "region": "Gauteng"}, format="json"
        )
        listed = _api(manager).get("/api/v1/metrics/reports/").json()
    assert created.status_code == 201
    assert created.json()["filters"] == {"region": "Gauteng"} and created.json()["period_slug"] == "2026-W10"
    assert listed["results"][0]["filters"] == {"region": "Gauteng"}
