"""Opening, downloading and reading one generated quarterly report: who may, and what it holds.

The report is generated once for the module (a 20-page PDF and a workbook take seconds each time) and only read
here; the tests that generate, replace or change a report are in test_pages.py."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from django.db import transaction
from django.test import TestCase, override_settings
from openpyxl import load_workbook

from accounts import roles
from reports import services
from reports.render.sheets import safe
from saypro.celery import app as celery_app
from tests.factories import UserFactory

from .conftest import NOW, make_quarter_data

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared_quarterly_run(django_db_setup, django_db_blocker):
    """The quarterly report of `quarter_data`, made in a transaction rolled back at the module's end; each test runs
    in a savepoint of it. Requested by a manager account of its own: the persona fixtures make theirs per test."""
    with django_db_blocker.unblock(), override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        # As a request's after-commit tasks would run on a worker (the per-test fixture sets this only later).
        celery_app.conf.task_always_eager = True
        with transaction.atomic():
            make_quarter_data()
            requester = UserFactory(email="report-requester@saypro.example", roles=[roles.MANAGER])
            with time_machine.travel(NOW, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
                period = services.report_period(kind="quarterly", day=date(2026, 2, 1))
                run = services.report_request(kind="quarterly", period=period, by=requester)
            run.refresh_from_db()
            yield run
            transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("user", 403),
        ("outsider", 403),
        ("agent", 403),
        ("moderator", 403),
        ("reviewer", 403),
        ("manager", 200),
        ("administrator", 200),
    ],
)
def test_only_managers_and_administrators_open_and_download_reports(as_, persona, expected, shared_quarterly_run):
    client = as_(persona)
    pk = shared_quarterly_run.pk
    for url in (
        "/dashboard/reports/",
        f"/dashboard/reports/{pk}/",
        f"/dashboard/reports/{pk}/preview/",
        f"/dashboard/reports/{pk}/download/pdf/",
        f"/dashboard/reports/{pk}/download/xlsx/",
        f"/dashboard/reports/{pk}/download/csv/",
    ):
        assert client.get(url).status_code == expected, url


def test_spreadsheet_has_a_sheet_per_section_raw_appendices_and_escaped_formulas(shared_quarterly_run):
    workbook = load_workbook(io.BytesIO(shared_quarterly_run.xlsx.open("rb").read()))
    names = workbook.sheetnames
    assert names[0] == "About"
    for title in ("Executive summary", "Registrations", "Recommendations", "SLA clocks per day"):
        assert any(name.startswith(title[:28]) for name in names), title
    assert safe("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe("+1") == "'+1" and safe("@x") == "'@x"
    assert safe("-2") == "'-2" and safe(-2) == -2 and safe("plain") == "plain"


def test_preview_shows_the_document(as_, shared_quarterly_run):
    response = as_("manager").get(f"/dashboard/reports/{shared_quarterly_run.pk}/preview/")
    content = response.content.decode()
    assert 'data-testid="section-summary"' in content and "<svg" in content and "<script>" not in content
    assert "SLA achievement = achieved ÷ (achieved + breached)" in content


def test_the_area_page_and_the_report_show_the_same_numbers(as_, shared_quarterly_run):
    with time_machine.travel(NOW, tick=False):
        page = as_("manager").get("/dashboard/areas/accounts/", {"period": "quarter", "day": "2026-02-01"})
    shown = {f.key: f.value for s in page.context["sections"] for f in s.figures}
    reported = {f["key"]: f["value"] for s in shared_quarterly_run.document["sections"] for f in s["figures"]}
    assert shown and all(reported[key] == value for key, value in shown.items())
    charts = {c.key: [list(x.values) for x in c.series] for s in page.context["sections"] for c in s.charts}
    stored = {
        c["key"]: [x["values"] for x in c["series"]]
        for s in shared_quarterly_run.document["sections"]
        for c in s["charts"]
    }
    assert charts and all(stored[key] == values for key, values in charts.items())
