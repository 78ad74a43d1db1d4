"""Targets in the admin: administrators add a row per figure and period; rows are never edited or deleted, so
every report keeps the target it was measured against."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import Target
from .registry import target_specs
from .services import target_set


class TargetForm(forms.ModelForm):
    figure_key = forms.ChoiceField(label="Figure", choices=())

    class Meta:
        model = Target
        fields = ("figure_key", "period_start", "value", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Apps register their targets at start-up: the choices are read when the form is made.
        field = self.fields["figure_key"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(t.key, f"{t.label} ({t.key})") for t in target_specs()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The service's checks, as form errors before anything is saved.
        spec = next((t for t in target_specs() if t.key == data.get("figure_key")), None)
        value = data.get("value")
        if spec is not None and value is not None and not spec.minimum <= value <= spec.maximum:
            self.add_error("value", f"Between {spec.minimum:g} and {spec.maximum:g}.")
        return data


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    form = TargetForm
    list_display = ("figure_key", "period_start", "value", "set_by", "set_at", "note")
    list_filter = ("figure_key",)
    ordering = ("figure_key", "-period_start", "-set_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Changing a row would rewrite the target a past report was measured against: add a new one instead.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Target, form: Any, change: bool) -> None:
        saved = target_set(
            figure_key=obj.figure_key, period_start=obj.period_start, value=obj.value, note=obj.note, by=request.user
        )
        obj.pk = saved.pk
