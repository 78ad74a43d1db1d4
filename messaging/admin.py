"""Admin: the configuration of messaging (teams, resolution policies, volume targets) and a read-only look at
conversations. Every change to a conversation goes through the inbox, so that clocks and the audit trail follow."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from saypro.admin import ReadOnlyAdmin

from .models import CategoryLabel, Conversation, ResolutionPolicy, TeamMembership


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team"]
    list_filter = ["team"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]


@admin.register(ResolutionPolicy)
class ResolutionPolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "policy"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row per category, created by the migration; only the policy it points to changes.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "subject", "status", "category", "assigned_to", "created_at"]
    list_filter = ["created_at", "status", "category", "initiated_by"]
    search_fields = ["subject", "user__email"]
    list_select_related = ["user", "assigned_to"]


@admin.register(CategoryLabel)
class CategoryLabelAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "previous_category", "category", "by", "created_at"]
    list_filter = ["category", "previous_source"]
    list_select_related = ["by"]
