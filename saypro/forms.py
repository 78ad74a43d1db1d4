"""Form plumbing shared by the staff pages."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from saypro.errors import DomainError


class PageForm(forms.Form):
    """A form that shares its page with other forms: its controls' ids start with `id_prefix` instead of Django's
    `id_`, so two forms with a `body` field on one page do not both render `id="id_body"` (labels and scripts that
    find a control by id would reach the wrong one)."""

    id_prefix: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def add_service_errors(form: forms.BaseForm, error: DomainError) -> None:
    """Put a service's refusal on the form, so the page shows it beside what the person typed (kept in the form).

    Field messages go on the matching fields; the rest, and a refusal without fields (the item was decided by a
    colleague meanwhile), become form-wide errors.
    """
    fields = error.fields
    placed = False
    for name, messages in fields.items():
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
            else:
                form.add_error(None, message)
    if not placed and not fields:
        form.add_error(None, error.message)
