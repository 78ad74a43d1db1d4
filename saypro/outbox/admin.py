from django.contrib import admin
from django.http import HttpRequest

from .models import FollowUpClaim, MailDelivery, OutboxMessage


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


@admin.register(MailDelivery)
class MailDeliveryAdmin(admin.ModelAdmin):
    """Every e-mail and its outcome: staff see here the ones that failed, and why, while they are retried."""

    list_display = ("subject", "recipients", "status", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("status", "template")
    search_fields = ("subject", "once_key")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in MailDelivery._meta.fields]
    show_full_result_count = False

    @admin.display(description="to")
    def recipients(self, obj: MailDelivery) -> str:
        return ", ".join(obj.to)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(FollowUpClaim)
class FollowUpClaimAdmin(admin.ModelAdmin):
    """Items the reconciliation sweep handed to a worker again: many rows for one follow-up point at a fault."""

    list_display = ("followup", "item", "attempts", "dispatched_at")
    list_filter = ("followup",)
    readonly_fields = ("followup", "item", "attempts", "dispatched_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
