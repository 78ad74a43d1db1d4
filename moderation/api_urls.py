from django.urls import path

from . import api

app_name = "moderation-api"
urlpatterns = [
    path("flags/", api.FlagListView.as_view(), name="flag-list"),
    path("moderation/cases/", api.OwnCaseListView.as_view(), name="own-case-list"),
    path("moderation/cases/<int:pk>/", api.OwnCaseDetailView.as_view(), name="own-case-detail"),
    path("moderation/cases/<int:pk>/appeal/", api.AppealView.as_view(), name="own-case-appeal"),
    path("staff/moderation/cases/", api.StaffCaseListView.as_view(), name="staff-case-list"),
    path("staff/moderation/cases/<int:pk>/", api.StaffCaseDetailView.as_view(), name="staff-case-detail"),
    path("staff/moderation/cases/<int:pk>/decide/", api.StaffDecideView.as_view(), name="staff-case-decide"),
]
