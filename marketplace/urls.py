from django.urls import path

from . import views

app_name = "marketplace"
urlpatterns = [
    path("", views.home, name="home"),
    path("listings/bulk/", views.listings_bulk, name="listings-bulk"),
    path("listings/<int:pk>/", views.listing, name="listing"),
    path("listings/<int:pk>/images/<int:index>/", views.listing_image, name="listing-image"),
    path("listings/<int:pk>/renew/", views.listing_renew, name="listing-renew"),
    path("users/", views.users, name="users"),
    path("users/bulk/", views.users_bulk, name="users-bulk"),
    path("users/<int:pk>/", views.user, name="user"),
    path("transactions/", views.transactions, name="transactions"),
    path("transactions/<int:pk>/", views.transaction, name="transaction"),
]
