"""Admin plumbing shared by the apps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
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


def worded_filter(
    field: str, title: str, words: Callable[[str], str], codes: Callable[[], Iterable[str]] | None = None
) -> type[admin.SimpleListFilter]:
    """A list filter on a field that stores short codes, offering each code by its words ("Wrong password", not
    `wrong_password`). `codes` lists the possible codes when a registry knows them; without it, the codes present
    in the table are read (one DISTINCT query, as Django's own filter on such a field does)."""

    class WordedFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            if codes is not None:
                present: Iterable[str] = codes()
            else:
                queryset = model_admin.get_queryset(request).exclude(**{field: ""})
                present = queryset.order_by().values_list(field, flat=True).distinct()
            return sorted(((code, words(code)) for code in set(present)), key=lambda pair: pair[1].lower())

        def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    WordedFilter.title = title
    return WordedFilter
