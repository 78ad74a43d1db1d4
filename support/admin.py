"""Admin for support's reference data: departments, SLA policies and their targets, triage rules, macros, the
help center and known issues. Tickets are worked in the agent workspace, so the admin shows them read-only."""

from __future__ import annotations

from django.contrib import admin

from saypro.admin import ReadOnlyAdmin

from .models import (
    Article,
    ArticleCategory,
    Department,
    KnownIssue,
    Macro,
    PointsEntry,
    SupportPolicy,
    SupportTarget,
    Survey,
    SurveyFollowUp,
    Ticket,
    TriageRule,
)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team_lead", "is_active"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


class SupportTargetInline(admin.TabularInline):
    model = SupportTarget
    extra = 0


@admin.register(SupportPolicy)
class SupportPolicyAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "priorities", "channels", "is_active"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    filter_horizontal = ["departments"]
    inlines = [SupportTargetInline]


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "keywords", "department", "priority", "category", "is_active"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "for_tickets", "for_conversations", "set_status", "usage_count", "is_active"]
    list_filter = ["department", "for_conversations", "is_active"]
    readonly_fields = ["usage_count"]


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "slug"]
    list_display_links = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "is_published", "views", "helpful_yes", "helpful_no", "updated_at"]
    list_filter = ["category", "is_published"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["views", "helpful_yes", "helpful_no"]


@admin.register(KnownIssue)
class KnownIssueAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "found_at", "fixed_at"]
    list_filter = ["status"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["pk", "subject", "status", "priority", "channel", "department", "assignee", "created_at"]
    list_filter = ["status", "priority", "channel", "department"]
    search_fields = ["subject", "requester__email"]
    list_select_related = ["department", "assignee"]
    raw_id_fields = ["requester", "assignee", "merged_into"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["pk", "channel", "department", "agent", "rating", "sent_at", "answered_at"]
    list_filter = ["channel", "rating"]
    list_select_related = ["department", "agent"]


@admin.register(SurveyFollowUp)
class SurveyFollowUpAdmin(admin.ModelAdmin):
    list_display = ["survey", "assigned_to", "created_at", "done_at"]


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["user", "points", "reason", "at"]
    raw_id_fields = ["user"]
