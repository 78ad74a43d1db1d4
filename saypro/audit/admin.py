from django.contrib import admin

from saypro.admin import ReadOnlyAdmin, worded_filter

from .labels import action_label
from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The trail is evidence: nobody edits or deletes it, not even a superuser."""

    list_display = ("at", "actor_label", "what", "target_type", "target_repr", "reason")
    list_filter = ("at", worded_filter("action", "action", action_label), "target_type")
    search_fields = ("actor_label", "target_repr", "reason", "target_id")
    list_select_related = ("target_type",)

    @admin.display(description="Action", ordering="action")
    def what(self, entry: AuditEntry) -> str:
        return entry.action_label
