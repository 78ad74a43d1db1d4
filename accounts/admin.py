from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from saypro.admin import ReadOnlyAdmin, worded_filter
from saypro.audit.services import audit_record
from saypro.errors import DomainError
from saypro.paginators import EstimatedCountPaginator

from . import escalation, roles, security, selectors, self_service, services
from .identity import country_name
from .models import (
    AccountEvent,
    AccountSession,
    AgentProfile,
    BlockRule,
    DeletionRequest,
    FeatureRelease,
    Feedback,
    IdentityFingerprint,
    Lockout,
    Registration,
    RegistrationSignal,
    ReviewGuidelines,
    SuspiciousEvent,
    User,
    channel_words,
    event_reason_words,
    words_for,
)

TIMELINE_PAGE_SIZE = 100


class StatusForm(forms.Form):
    action = forms.ChoiceField(choices=[("suspend", "Suspend"), ("ban", "Ban"), ("reinstate", "Reinstate")])
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"style": "width: 95%"}))
    until = forms.DateTimeField(
        required=False,
        label="Suspended until",
        help_text="Leave empty to suspend until reinstated.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "country_words", "status", "is_staff", "date_joined", "timeline_link")
    list_filter = ("status", "is_staff", "groups", worded_filter("country", "country", country_name))
    search_fields = ("email", "full_name", "phone")
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="Country", ordering="country")
    def country_words(self, obj: User) -> str:
        return country_name(obj.country) if obj.country else "—"

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "country", "region", "language", "age_band")}),
        ("Verification", {"fields": ("email_verified_at", "phone_verified_at", "id_verified_at")}),
        ("Account status", {"fields": ("status", "status_reason", "status_changed_at", "suspended_until")}),
        ("Access", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    # Status changes go through the services (timeline page), which also sign the user out and tell them.
    readonly_fields = ("status", "status_reason", "status_changed_at", "suspended_until")
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    # Who may change whom: only a superuser grants superuser status or single permissions, edits a superuser's
    # account (e-mail, password, roles) or gives or takes the Administrator role, so an administrator cannot
    # promote themselves or take over the account of the people above them.
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + self.SUPERUSER_ONLY_FIELDS

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if request.user.is_superuser or "groups" not in form.base_fields:
            return form
        before = set(obj.groups.values_list("name", flat=True)) if obj is not None else set()

        class AdministratorRoleForm(form):  # type: ignore[valid-type,misc]
            def clean_groups(self) -> Any:
                groups = self.cleaned_data["groups"]
                after = {group.name for group in groups}
                if (roles.ADMINISTRATOR in after) != (roles.ADMINISTRATOR in before):
                    raise forms.ValidationError("Only a superuser gives or takes the Administrator role.")
                return groups

        return AdministratorRoleForm

    @admin.display(description="Timeline")
    def timeline_link(self, obj: User) -> str:
        return format_html('<a href="{}">Timeline</a>', reverse("admin:accounts_user_timeline", args=[obj.pk]))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("<int:pk>/timeline/", self.admin_site.admin_view(self.timeline_view), name="accounts_user_timeline"),
            path("<int:pk>/unlock/", self.admin_site.admin_view(self.unlock_view), name="accounts_user_unlock"),
            path("<int:pk>/status/", self.admin_site.admin_view(self.status_view), name="accounts_user_status"),
        ]
        return extra + super().get_urls()

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Django's set-password page, then what every password change does: the account's other sessions end and
        its API tokens stop working (the administrator's own tab stays signed in)."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            subject = get_object_or_404(User, pk=id)
            own = subject.pk == request.user.pk
            services.sessions_end(user=subject, keep_session=(request.session.session_key or "") if own else "")
        return response

    def timeline_view(
        self, request: HttpRequest, pk: int, form: StatusForm | None = None, *, refused: str = ""
    ) -> HttpResponse:
        """Every event of one user, newest first, with their sessions, lockouts and the status actions. `refused`:
        a status change or unlock this user may not make on this account, answered with the page and a 403."""
        if not request.user.has_perm("accounts.view_account_timeline"):
            raise PermissionDenied
        subject = get_object_or_404(User, pk=pk)
        by = cast(User, request.user)
        # The buttons follow the services' rule, so a moderator is not offered what would be refused.
        status_refusal = services.account_status_refusal(user=subject, by=by, action="status")
        unlock_refusal = services.account_status_refusal(user=subject, by=by, action="unlock")
        page = Paginator(selectors.account_timeline(user=subject), TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Timeline of {subject}",
            "subject": subject,
            "opts": self.model._meta,
            "page": page,
            "status": selectors.user_status(subject),
            "lockouts": list(subject.lockouts.filter(released_at__isnull=True, until__gt=now).order_by("-until")),
            "sessions": list(AccountSession.objects.filter(user=subject).order_by("-started_at")[:10]),
            "two_factor": security.has_two_factor(subject),
            "can_unlock": request.user.has_perm("accounts.unlock_account") and not unlock_refusal,
            "can_change_status": request.user.has_perm("accounts.manage_account_status") and not status_refusal,
            "status_refusal": status_refusal if request.user.has_perm("accounts.manage_account_status") else "",
            "refused": refused,
            "status_form": form or StatusForm(),
            "now": now,
        }
        return TemplateResponse(request, "admin/accounts/user/timeline.html", context, status=403 if refused else 200)

    def unlock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm("accounts.unlock_account"):
            raise PermissionDenied
        subject = get_object_or_404(User, pk=pk)
        try:
            released = security.lockouts_release_for(user=subject, by=cast(User, request.user))
        except services.StatusChangeRefused as exc:
            return self.timeline_view(request, pk, refused=exc.message)
        if released:
            self.message_user(request, f"{subject} can sign in again.", messages.SUCCESS)
        else:
            self.message_user(request, f"{subject} was not locked out.", messages.WARNING)
        return redirect("admin:accounts_user_timeline", pk=pk)

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm("accounts.manage_account_status"):
            raise PermissionDenied
        subject = get_object_or_404(User, pk=pk)
        form = StatusForm(request.POST)
        if not form.is_valid():
            return self.timeline_view(request, pk, form=form)
        by, data = cast(User, request.user), form.cleaned_data
        try:
            if data["action"] == "suspend":
                services.user_suspend(user=subject, by=by, reason=data["reason"], until=data["until"])
            elif data["action"] == "ban":
                services.user_ban(user=subject, by=by, reason=data["reason"])
            else:
                services.user_reinstate(user=subject, by=by, reason=data["reason"])
        except services.StatusChangeRefused as exc:
            return self.timeline_view(request, pk, form=form, refused=exc.message)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            subject.refresh_from_db()
            self.message_user(request, f"{subject} is now {subject.get_status_display().lower()}.", messages.SUCCESS)
        return redirect("admin:accounts_user_timeline", pk=pk)


class SignalInline(admin.TabularInline):
    model = RegistrationSignal
    extra = 0
    can_delete = False
    fields = ("reason", "weight", "detail", "created_at")
    readonly_fields = ("reason", "weight", "detail", "created_at")

    @admin.display(description="Reason")
    def reason(self, obj: RegistrationSignal) -> str:
        return obj.label

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Read-only here: decisions go through the review queue (or the actions below), which use the services."""

    list_display = ("id", "user", "status", "risk_score", "submitted_at", "decided_at", "auto_approved")
    list_filter = ("submitted_at", "status", "auto_approved", "device_type", "delay_cause")
    search_fields = ("user__email", "canonical_email", "phone_e164", "ip_address")
    list_select_related = ("user",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
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
    list_filter = ("kind", worded_filter("reason", "reason", words_for))
    readonly_fields = ("kind", "digest", "reason", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "kind", "reason_words", "channel_name", "ip_address", "device_type", "actor")
    list_filter = (
        "at",
        "kind",
        worded_filter("reason", "reason", event_reason_words),
        worded_filter("channel", "channel", channel_words),
        "device_type",
    )
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user", "actor")

    @admin.display(description="Reason", ordering="reason")
    def reason_words(self, obj: AccountEvent) -> str:
        return obj.reason_display

    @admin.display(description="Channel", ordering="channel")
    def channel_name(self, obj: AccountEvent) -> str:
        return channel_words(obj.channel)


@admin.register(SuspiciousEvent)
class SuspiciousEventAdmin(ReadOnlyAdmin):
    """Suspicious activity: new devices and networks, failure bursts, credential stuffing, resets after a new
    device. The user was warned by e-mail; stuffing has no user, only the network."""

    list_display = ("at", "user_link", "reason_words", "ip_address", "device_type", "channel_name")
    list_filter = ("at", worded_filter("reason", "reason", event_reason_words))
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)

    @admin.display(description="Reason", ordering="reason")
    def reason_words(self, obj: SuspiciousEvent) -> str:
        return obj.reason_display

    @admin.display(description="Channel", ordering="channel")
    def channel_name(self, obj: SuspiciousEvent) -> str:
        return channel_words(obj.channel)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SuspiciousEvent]:
        return super().get_queryset(request).filter(kind=AccountEvent.Kind.SUSPICIOUS)

    @admin.display(description="User")
    def user_link(self, obj: SuspiciousEvent) -> str:
        if obj.user_id is None:
            return "—"
        url = reverse("admin:accounts_user_timeline", args=[obj.user_id])
        return format_html('<a href="{}">{}</a>', url, obj.user)


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "user", "failures", "until", "released_at", "released_by", "is_active_now")
    list_filter = ("released_at",)
    search_fields = ("user__email",)
    list_select_related = ("user", "released_by")
    actions = ["release_selected"]

    @admin.display(boolean=True, description="Active")
    def is_active_now(self, obj: Lockout) -> bool:
        return obj.is_active()

    @admin.action(description="Release the selected lockouts", permissions=["unlock"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[Lockout]) -> None:
        by = cast(User, request.user)
        released = 0
        for lockout in queryset.select_related("user"):
            try:
                released += security.lockout_release(lockout=lockout, by=by).released_by_id == by.pk
            except services.StatusChangeRefused as exc:
                self.message_user(request, f"{lockout.user}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{released} lockout{'s' if released != 1 else ''} released.", messages.SUCCESS)

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.unlock_account")


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdmin):
    """Users' deletion requests; completing one anonymises the account (audited)."""

    list_display = ("requested_at", "user", "status", "decided_at", "decided_by")
    list_filter = ("status",)
    search_fields = ("user__email",)
    list_select_related = ("user", "decided_by")
    actions = ["complete_selected", "cancel_selected"]

    @admin.action(description="Complete: anonymise the selected accounts", permissions=["process"])
    def complete_selected(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(request, queryset, self_service.account_delete, "deleted")

    @admin.action(description="Cancel the selected requests", permissions=["process"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        self._decide(request, queryset, self_service.deletion_cancel, "cancelled")

    def _decide(self, request: HttpRequest, queryset: QuerySet[DeletionRequest], action: Any, verb: str) -> None:
        done = 0
        for deletion in queryset.filter(status=DeletionRequest.Status.PENDING):
            try:
                action(request=deletion, by=cast(User, request.user))
            except DomainError as exc:
                self.message_user(request, f"#{deletion.pk}: {exc.message}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{done} account{'s' if done != 1 else ''} {verb}.", messages.SUCCESS)

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.process_deletion")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "topic", "score", "user", "comment")
    list_filter = ("created_at", "topic", "score")
    list_select_related = ("user",)


@admin.register(AccountSession)
class AccountSessionAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "user", "channel", "device_type", "platform", "browser", "last_seen_at", "ended_at")
    list_filter = ("channel", "device_type", "platform")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    exclude = ("key",)


@admin.register(FeatureRelease)
class FeatureReleaseAdmin(admin.ModelAdmin):
    """Administrators add a feature when it ships; from its release day the reports count who uses it."""

    list_display = ("name", "key", "released_on")
    search_fields = ("name", "key")


@admin.register(ReviewGuidelines)
class ReviewGuidelinesAdmin(admin.ModelAdmin):
    """Administrators write the reviewers' guidelines; reviewers read them one click from the review page."""

    list_display = ("__str__", "updated_at", "updated_by")
    fields = ("text",)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        escalation.guidelines()  # the documents' defaults, until an administrator writes their own
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ReviewGuidelines, form: Any, change: bool) -> None:
        obj.updated_at, obj.updated_by = timezone.now(), cast(User, request.user)
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="review_guidelines.change", target=obj)


class CodeListField(forms.CharField):
    """A short JSON list of codes ("en", "zu" or region names), typed as comma-separated words."""

    def prepare_value(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else str(value or "")

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class ShiftForm(forms.ModelForm):
    languages = CodeListField(required=False, max_length=300, help_text='Language codes spoken, e.g. "en, zu".')
    regions = CodeListField(
        required=False, max_length=300, help_text="Regions covered, comma-separated; empty means every region."
    )

    class Meta:
        model = AgentProfile
        fields = ("user", "languages", "regions", "working_hours", "is_available", "max_open_items")

    def clean_user(self) -> User:
        user: User = self.cleaned_data["user"]
        if not user.is_staff:
            raise forms.ValidationError("Shifts are for staff accounts.")
        return user


@admin.register(AgentProfile)
class ShiftAdmin(admin.ModelAdmin):
    """Who works when: each staff member's shift calendar (sla calendars: weekly hours, time zone, holidays), the
    languages they speak and the regions they cover. Their role is their group. Routing, alerts and the staffing
    page read these rows; a member without one counts as always on duty."""

    form = ShiftForm
    list_display = ("user", "roles", "working_hours", "languages_text", "regions_text", "is_available")
    list_filter = ("is_available", "user__groups", "working_hours")
    list_select_related = ("user", "working_hours")
    search_fields = ("user__email", "user__full_name")
    autocomplete_fields = ("user",)
    ordering = ("user__email",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentProfile]:
        return super().get_queryset(request).prefetch_related("user__groups")

    @admin.display(description="Roles")
    def roles(self, obj: AgentProfile) -> str:
        return ", ".join(sorted(group.name for group in obj.user.groups.all())) or "—"

    @admin.display(description="Languages")
    def languages_text(self, obj: AgentProfile) -> str:
        return ", ".join(obj.languages) or "any"

    @admin.display(description="Regions")
    def regions_text(self, obj: AgentProfile) -> str:
        return ", ".join(obj.regions) or "every region"
