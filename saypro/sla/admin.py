"""Calendars and policies are set up here; clocks are only looked at, because services move them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from saypro.admin import ReadOnlyAdmin, worded_filter
from saypro.durations import target_text

from .models import BusinessHours, Calendar, Clock, ClockEvent, Holiday, Policy
from .promises import promise_for, promises


def metric_words(metric: str) -> str:
    """A metric by the promise it measures ("Registrations approved within 48 h"), else its code."""
    promise = promise_for(metric)
    return promise.title if promise else metric


def _metrics() -> list[str]:
    return [promise.metric for promise in promises()]


MetricFilter = worded_filter("metric", "promise", metric_words, codes=_metrics)


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


class CalendarForm(forms.ModelForm):
    class Meta:
        model = Calendar
        fields = ("name", "kind", "time_zone")

    def clean_time_zone(self) -> str:
        # An unknown zone would only fail later, when a clock is started on the calendar.
        time_zone: str = self.cleaned_data["time_zone"]
        if time_zone not in available_timezones():
            raise forms.ValidationError("Use a time zone name such as Africa/Johannesburg or UTC.")
        return time_zone


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ("name", "kind", "time_zone")
    list_filter = ("kind",)
    search_fields = ("name",)
    inlines = [BusinessHoursInline, HolidayInline]


class HoursField(forms.DecimalField):
    """A deadline typed in hours ("24", "0.5"), stored as the model's duration."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=Decimal("0.01"), max_digits=7, decimal_places=2, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, timedelta):
            return Decimal(value.total_seconds() / 3600).quantize(Decimal("0.01")).normalize()
        return value

    def clean(self, value: Any) -> timedelta | None:
        hours = super().clean(value)
        return None if hours is None else timedelta(hours=float(hours))


class PolicyForm(forms.ModelForm):
    target = HoursField(label="Target (hours)", help_text="How long an item may wait, e.g. 24 or 0.5.")

    class Meta:
        model = Policy
        fields = ("metric", "name", "target", "warn_percents", "calendar", "is_default")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No warning points is a valid policy (the clock is then "at risk" from 75 %); `[]` counts as blank.
        self.fields["warn_percents"].required = False

    def clean_target(self) -> Any:
        target = self.cleaned_data["target"]
        if target is not None and target.total_seconds() <= 0:
            raise forms.ValidationError("The target must be longer than zero.")
        return target

    def clean_warn_percents(self) -> list[int]:
        # The sweep compares and sorts these numbers; anything else would stop it for every clock of the policy.
        value = self.cleaned_data["warn_percents"]
        if value is None:
            return []
        if not isinstance(value, list) or not all(type(p) is int and 0 < p < 100 for p in value):
            raise forms.ValidationError("Give a list of whole percentages between 1 and 99, e.g. [75, 90].")
        return sorted(set(value))


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ("name", "promise", "target_hours", "warning_points", "calendar", "is_default")
    list_filter = (MetricFilter, "is_default", "calendar")
    search_fields = ("name", "metric")
    list_select_related = ("calendar",)
    show_full_result_count = False

    @admin.display(description="Promise", ordering="metric")
    def promise(self, policy: Policy) -> str:
        return metric_words(policy.metric)

    @admin.display(description="Target", ordering="target")
    def target_hours(self, policy: Policy) -> str:
        return target_text(policy.target.total_seconds())

    @admin.display(description="Warnings at")
    def warning_points(self, policy: Policy) -> str:
        return ", ".join(f"{percent} %" for percent in policy.warn_percents) or "—"


class ClockEventInline(admin.TabularInline):
    model = ClockEvent
    extra = 0
    fields = ("kind", "at", "data", "handled_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    """Read-only: a clock moves only through saypro.sla.services, which keep its deadlines and events in step."""

    list_display = (
        "id",
        "promise",
        "policy",
        "target_type",
        "target_id",
        "state",
        "started_at",
        "due_at",
        "warned_percent",
        "breached_at",
        "met",
    )
    list_filter = (MetricFilter, "state", "met", "due_at")
    search_fields = ("=target_id",)
    # Newest first, read from the primary key: sorting 1.4 M clocks by deadline across metrics took a second.
    ordering = ("-id",)
    list_select_related = ("policy", "target_type")
    inlines = [ClockEventInline]

    @admin.display(description="Promise", ordering="metric")
    def promise(self, clock: Clock) -> str:
        return metric_words(clock.metric)
