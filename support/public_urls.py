"""Public pages: the help center, the bi-weekly transparency summary and the one-click survey."""

from django.urls import path

from . import views

app_name = "help"
urlpatterns = [
    path("help/", views.help_home, name="home"),
    path("help/transparency/", views.transparency, name="transparency"),
    path("help/transparency.csv", views.transparency_csv, name="transparency-csv"),
    path("help/<slug:category>/<slug:slug>/", views.help_article, name="article"),
    path("survey/<str:token>/", views.survey, name="survey"),
    path("survey/<str:token>/<int:rating>/", views.survey, name="survey-rate"),
]
