from django.urls import path

from . import views

app_name = "moderation"
urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<int:pk>/", views.case, name="case"),
    path("cases/<int:pk>/images/<int:index>/", views.case_image, name="case-image"),
    path("cases/<int:pk>/decide/", views.case_decide, name="case-decide"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:pk>/", views.appeal, name="appeal"),
    path("keywords/", views.keywords, name="keywords"),
    path("keywords/<int:pk>/toggle/", views.keyword_toggle, name="keyword-toggle"),
    path("figures/", views.figures, name="figures"),
]
