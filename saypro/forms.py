"""Form plumbing shared by the staff pages."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms


class PageForm(forms.Form):
    """A form that shares its page with other forms: its controls' ids start with `id_prefix` instead of Django's
    `id_`, so two forms with a `body` field on one page do not both render `id="id_body"` (labels and scripts that
    find a control by id would reach the wrong one)."""

    id_prefix: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)
