from django.contrib import admin
from django.http import HttpRequest

from .models import TextModel


@admin.register(TextModel)
class TextModelAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "is_active", "trained_on", "created_at", "accuracy")
    list_filter = ("name", "is_active")
    exclude = ("blob",)
    readonly_fields = ("name", "version", "trained_on", "labels", "metrics", "source", "created_at")

    @admin.display(description="CV accuracy")
    def accuracy(self, obj: TextModel) -> str:
        value = obj.metrics.get("accuracy")
        return f"{value:.1%}" if value is not None else "–"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
