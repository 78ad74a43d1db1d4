"""Django admin: categories are edited here; listings and transactions are read-only (their pages and services
change them, with reasons and audit entries)."""

from __future__ import annotations

from django.contrib import admin

from saypro.admin import ReadOnlyAdmin

from .models import Category, Listing, SellerProfile, Transaction


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "position")
    list_editable = ("is_active", "position")
    prepopulated_fields = {"slug": ("name",)}


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
