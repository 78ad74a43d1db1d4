"""Admin plumbing shared by the apps."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from saypro.paginators import EstimatedCountPaginator


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only: the admin lists and shows them, with estimated counts on big tables."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
