from django.urls import path

from . import api

app_name = "marketplace-api"
urlpatterns = [
    path("listings/", api.ListingListView.as_view(), name="listing-list"),
    path("listings/<int:pk>/", api.ListingDetailView.as_view(), name="listing-detail"),
    path("listings/<int:pk>/renew/", api.ListingRenewView.as_view(), name="listing-renew"),
    path("categories/", api.CategoryListView.as_view(), name="category-list"),
    path("sellers/<int:pk>/", api.SellerProfileView.as_view(), name="seller-profile"),
    path("profile/", api.OwnProfileView.as_view(), name="own-profile"),
    path("transactions/", api.TransactionListView.as_view(), name="transaction-list"),
    path("transactions/<int:pk>/", api.TransactionDetailView.as_view(), name="transaction-detail"),
    path("transactions/<int:pk>/status/", api.TransactionStatusView.as_view(), name="transaction-status"),
]
