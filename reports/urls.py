from django.urls import path

from . import link_views, search, views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("tiles/", views.tiles_fragment, name="tiles"),
    path("search/", search.search, name="search"),
    path("areas/<slug:area>/", views.area, name="area"),
    path("promises/<str:metric>/items/", views.promise_items, name="promise-items"),
    path("reports/", views.reports, name="reports"),
    path("reports/subscriptions/", views.report_subscriptions, name="report-subscriptions"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/preview/", views.report_preview, name="report-preview"),
    path("reports/<int:pk>/download/<slug:fmt>/", views.report_download, name="report-download"),
    # A subscriber's signed link to a report's PDF: no sign-in, the link is the credential.
    path("reports/link/<str:token>/", link_views.report_link, name="report-link"),
    path("targets/", views.targets, name="targets"),
    path("staffing/", views.staffing_page, name="staffing"),
    path("improvements/", views.improvements, name="improvements"),
    path("improvements/<int:pk>/", views.improvement_edit, name="improvement-edit"),
    path("improvements/<int:pk>/delete/", views.improvement_delete, name="improvement-delete"),
    path("topics/<int:pk>/improvement/", views.topic_improvement, name="topic-improvement"),
]
