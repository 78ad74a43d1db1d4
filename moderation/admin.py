"""Django admin: read-only views of moderation's tables. Decisions, keywords and appeals go through the moderation
pages and services, which check roles, require reasons and record audit entries."""

from __future__ import annotations

from django.contrib import admin

from saypro.admin import ReadOnlyAdmin, worded_filter

from .models import Appeal, Case, Decision, Detection, Flag, KeywordRule, Strike


def kind_words(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "content_title", "status", "reason", "source", "severity", "created_at")
    list_filter = ("status", worded_filter("kind", "kind", kind_words), "reason", "source")
    search_fields = ("content_title",)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "source", "reporter", "reason", "outcome", "created_at")
    list_filter = ("source", "reason", "outcome")
    list_select_related = ("case", "reporter")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "action_done", "rule", "by", "at", "reversed_at")
    list_filter = ("action", "rule", "automatic")
    list_select_related = ("case", "by")

    @admin.display(description="Decision", ordering="action")
    def action_done(self, obj: Decision) -> str:
        return obj.action_done


@admin.register(Detection)
class DetectionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "object_id", "score", "level", "model_version", "ran_at")
    list_filter = (worded_filter("kind", "kind", kind_words), "level")


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "rule", "issued_at", "expires_at", "revoked_at")
    list_select_related = ("user",)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "appellant", "status", "created_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("case", "appellant", "decided_by")


@admin.register(KeywordRule)
class KeywordRuleAdmin(ReadOnlyAdmin):
    list_display = ("phrase", "reason", "weight", "is_active", "created_at")
    list_filter = ("reason", "is_active")
