"""Django admin: categories are edited here; listings and transactions are read-only (their pages and services
change them, with reasons and audit entries)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from saypro.paginators import EstimatedCountPaginator

from .models import Category, Listing, SellerProfile, Transaction


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "position")
    list_editable = ("is_active", "position")
    prepopulated_fields = {"slug": ("name",)}


class ReadOnlyAdmin(admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "seller", "category", "price", "currency", "status", "created_at")
    list_filter = ("status", "category", "currency")
    search_fields = ("title", "seller__email")
    list_select_related = ("seller", "category")
    raw_id_fields = ("seller",)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "listing", "buyer", "seller", "amount", "currency", "status", "created_at")
    list_filter = ("status", "currency")
    list_select_related = ("listing", "buyer", "seller")


@admin.register(SellerProfile)
class SellerProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "display_name", "hidden_at")
    list_select_related = ("user",)
