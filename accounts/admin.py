from __future__ import annotations

from typing import cast

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import BlockRule, IdentityFingerprint, Registration, RegistrationSignal, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "country", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "groups", "country")
    search_fields = ("email", "full_name", "phone")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "country", "region", "language", "age_band")}),
        ("Verification", {"fields": ("email_verified_at", "phone_verified_at", "id_verified_at")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class SignalInline(admin.TabularInline):
    model = RegistrationSignal
    extra = 0
    can_delete = False
    readonly_fields = ("code", "weight", "detail", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Read-only here: decisions go through the review queue (or the actions below), which use the services."""

    list_display = ("id", "user", "status", "risk_score", "submitted_at", "decided_at", "auto_approved")
    list_filter = ("status", "auto_approved", "device_type", "delay_cause")
    search_fields = ("user__email", "canonical_email", "phone_e164", "ip_address")
    list_select_related = ("user",)
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    inlines = [SignalInline]
    actions = ["approve_selected"]
    readonly_fields = [f.name for f in Registration._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Approve the selected registrations", permissions=["review"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        result = services.registrations_bulk_decide(
            ids=list(queryset.values_list("pk", flat=True)), by=cast(User, request.user), decision="approve"
        )
        self.message_user(request, f"{len(result.decided)} approved.", messages.SUCCESS)
        for pk, why in result.skipped.items():
            self.message_user(request, f"#{pk}: {why}", messages.WARNING)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.review_registration")


@admin.register(BlockRule)
class BlockRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "reason", "is_active", "expires_at", "created_by", "created_at")
    list_filter = ("kind", "is_active")
    search_fields = ("value", "reason")


@admin.register(IdentityFingerprint)
class IdentityFingerprintAdmin(admin.ModelAdmin):
    list_display = ("kind", "reason", "created_at")
    list_filter = ("kind", "reason")
    readonly_fields = ("kind", "digest", "reason", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
