from django.contrib import admin
from django.http import HttpRequest

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows leave by themselves once the broker takes them."""

    list_display = ("task_name", "created_at", "attempts", "last_error")
    list_filter = ("task_name",)
    readonly_fields = ("task_name", "args", "kwargs", "options", "created_at", "attempts", "last_error")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
