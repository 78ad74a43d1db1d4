from django.urls import path

from . import api

app_name = "reports-api"
urlpatterns = [
    path("metrics/", api.MetricsView.as_view(), name="metrics"),
    path("metrics/figures/", api.FiguresView.as_view(), name="figures"),
    path("metrics/compliance/", api.ComplianceView.as_view(), name="compliance"),
    path("metrics/reports/", api.ReportRunList.as_view(), name="report-runs"),
]
