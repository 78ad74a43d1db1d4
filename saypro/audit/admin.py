from django.contrib import admin
from django.http import HttpRequest

from saypro.paginators import EstimatedCountPaginator

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "what", "target_type", "target_repr", "reason")
    list_filter = ("at", "action", "target_type")
    search_fields = ("actor_label", "target_repr", "reason", "target_id")
    list_select_related = ("target_type",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="Action", ordering="action")
    def what(self, entry: AuditEntry) -> str:
        return entry.action_label

    # The trail is evidence: nobody edits or deletes it, not even a superuser.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
