from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from .models import TextModel, ValidationSet
from .services import decisions_made


def _percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else "–"


def _probability(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "none meets the target"


@admin.register(TextModel)
class TextModelAdmin(admin.ModelAdmin):
    """One page per classifier version: what it learnt from, when, how well it does on the task's validation set,
    the thresholds it decides at, how many decisions it made, and why it is (not) the active one."""

    list_display = (
        "name",
        "version",
        "is_active",
        "created_at",
        "trained_on",
        "validation_accuracy",
        "auto_threshold",
        "decisions",
        "note",
    )
    list_filter = ("name", "is_active")
    exclude = ("blob",)
    readonly_fields = (
        "name",
        "version",
        "is_active",
        "note",
        "created_at",
        "trained_on",
        "source",
        "labels",
        "sklearn_version",
        "encoder",
        "decisions",
        "validation_figures",
        "threshold_figures",
        "cross_validation",
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).defer("blob")

    @admin.display(description="Validation accuracy")
    def validation_accuracy(self, obj: TextModel) -> str:
        return _percent(obj.validation.get("accuracy"))

    @admin.display(description="Auto threshold")
    def auto_threshold(self, obj: TextModel) -> str:
        if "auto" not in obj.thresholds:
            return "default (too few examples to choose)"
        return _probability(obj.thresholds["auto"])

    @admin.display(description="Automatic decisions made")
    def decisions(self, obj: TextModel) -> str:
        made = decisions_made(obj)
        return "–" if made is None else f"{made:,}"

    @admin.display(description="Validation set")
    def validation_figures(self, obj: TextModel) -> str:
        figures = obj.validation
        if not figures:
            return "No validation set yet: too few examples to hold some out."
        rows = [
            ("Held-out examples", f"{figures['examples']:,}"),
            ("Accuracy", _percent(figures.get("accuracy"))),
            ("Macro F1", _percent(figures.get("macro_f1"))),
            ("Brier score (0 is perfect)", f"{figures.get('brier', 0):.4f}"),
            ("Mean confidence", _percent(figures.get("mean_confidence"))),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="Thresholds")
    def threshold_figures(self, obj: TextModel) -> str:
        figures = obj.validation
        rows = []
        for key, title in (("auto", "Automatic decision"), ("review", "Review (spam)")):
            point = figures.get(key)
            if not point:
                continue
            target = (
                f"precision ≥ {point['target_precision']:.0%}"
                if "target_precision" in point
                else f"recall ≥ {point['target_recall']:.0%}"
            )
            rows.append(
                (
                    title,
                    target,
                    _probability(point["threshold"]),
                    _percent(point.get("precision")),
                    _percent(point.get("recall")),
                    _percent(point.get("coverage")),
                )
            )
        if not rows:
            return "Defaults of the consumer (no validation set to choose on)."
        return format_html(
            "<table><tr><th></th><th>target</th><th>P ≥</th><th>precision</th><th>recall</th><th>share decided</th>"
            "</tr>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Cross-validated on the training examples")
    def cross_validation(self, obj: TextModel) -> str:
        metrics = obj.metrics
        if not metrics:
            return "Not cross-validated."
        return (
            f"{metrics['folds']} folds: accuracy {_percent(metrics['accuracy'])}, "
            f"macro F1 {_percent(metrics['macro_f1'])}"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ValidationSet)
class ValidationSetAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "size", "source")
    readonly_fields = ("name", "created_at", "source", "digest", "texts", "labels")

    @admin.display(description="Examples")
    def size(self, obj: ValidationSet) -> int:
        return len(obj.labels)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
