from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from saypro.audit.services import audit_record
from saypro.localtime import local_text

from .models import RetentionPolicy
from .registry import data_kind
from .services import policies


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """Administrators set how long each kind of personal data is kept; the daily run purges the rest."""

    list_display = ("label", "days", "what_expiry_does", "updated", "last_run")
    fields = ("label", "what_expiry_does", "days", "updated", "last_run")
    readonly_fields = ("label", "what_expiry_does", "updated", "last_run")
    ordering = ("kind",)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        policies()  # a kind declared since the last visit appears with its default period
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Personal data")
    def label(self, obj: RetentionPolicy) -> str:
        return str(obj)

    @admin.display(description="When it expires")
    def what_expiry_does(self, obj: RetentionPolicy) -> str:
        kind = data_kind(obj.kind)
        return kind.description if kind else "No app declares this kind any more: nothing is purged."

    @admin.display(description="Changed")
    def updated(self, obj: RetentionPolicy) -> str:
        if obj.updated_at is None:
            return "Default period"
        return f"{local_text(obj.updated_at)} by {obj.updated_by or 'a deleted account'}"

    @admin.display(description="Last daily run")
    def last_run(self, obj: RetentionPolicy) -> str:
        if obj.last_run_at is None:
            return "Not run yet"
        return f"{local_text(obj.last_run_at)}: {obj.last_purged} purged"

    def save_model(self, request: HttpRequest, obj: RetentionPolicy, form: Any, change: bool) -> None:
        before = form.initial.get("days")
        obj.updated_at, obj.updated_by = timezone.now(), request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user, action="retention.change", target=obj, data={"from_days": before, "days": obj.days}
        )
