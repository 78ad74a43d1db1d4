"""Forms of the inbox, the thread page and the user's own pages. They parse input; messaging.services decides."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from accounts.routing import users_with_perm
from saypro.forms import PageForm

from .models import Category, Status
from .selectors import View
from .services import MAX_BODY, MAX_SUBJECT, REPLY_PERMISSION, Then


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the services check their number, size and type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


CATEGORY_FILTER_CHOICES = [("", "Any category"), ("none", "Not categorised yet"), *Category.choices]


class InboxFilterForm(forms.Form):
    view = forms.ChoiceField(required=False, choices=View.CHOICES)
    category = forms.ChoiceField(required=False, choices=CATEGORY_FILTER_CHOICES)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    region = forms.CharField(required=False, max_length=100)
    ad_category = forms.CharField(required=False, max_length=60, label="Ad category")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject, name, e-mail or phone"}),
    )
    at_risk = forms.BooleanField(required=False)
    breached = forms.BooleanField(required=False)

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "view": data.get("view") or View.ALL,
            "category": data.get("category") or None,
            "status": data.get("status") or None,
            "region": data.get("region") or None,
            "ad_category": data.get("ad_category") or None,
            "q": data.get("q") or None,
            "at_risk": bool(data.get("at_risk")),
            "breached": bool(data.get("breached")),
        }


class ReplyForm(PageForm):
    id_prefix = "reply"
    body = forms.CharField(
        label="Reply to the user",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "aria-keyshortcuts": "r"}),
        # The service strips and rejects empty text with a clear message.
        strip=False,
    )
    then = forms.ChoiceField(label="Then", choices=Then.CHOICES, initial=Then.WAIT)
    attachments = MultipleFileField(label="Attachments")
    canned_response_ref = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput())


class NoteForm(PageForm):
    id_prefix = "note"
    body = forms.CharField(
        label="Internal note",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3, "aria-keyshortcuts": "n"}),
        strip=False,
    )


class CategoryForm(PageForm):
    id_prefix = "category"
    category = forms.ChoiceField(choices=Category.choices)


class EscalateForm(PageForm):
    id_prefix = "escalate"
    reason = forms.CharField(label="Why escalate?", max_length=300)


class ResolveForm(PageForm):
    id_prefix = "resolve"
    note = forms.CharField(label="Resolution note", max_length=300, required=False)


class AssignForm(PageForm):
    id_prefix = "assign"
    to = forms.ModelChoiceField(
        label="Transfer to", queryset=User.objects.none(), required=False, empty_label="Nobody (unassigned)"
    )
    reason = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = users_with_perm(REPLY_PERMISSION).filter(is_staff=True).order_by("full_name")  # type: ignore[attr-defined]


class StartConversationForm(forms.Form):
    email = forms.EmailField(label="User's e-mail address")
    subject = forms.CharField(max_length=MAX_SUBJECT)
    category = forms.ChoiceField(required=False, choices=[("", "Choose later"), *Category.choices])
    listing_ref = forms.CharField(label="Ad reference", required=False, max_length=60)
    body = forms.CharField(label="Message", max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 6}), strip=False)
    attachments = MultipleFileField(label="Attachments")

    def clean_email(self) -> User:
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email, is_staff=False).first()
        if user is None:
            raise forms.ValidationError("No marketplace user has this e-mail address.")
        return user


class UserMessageForm(forms.Form):
    subject = forms.CharField(required=False, max_length=MAX_SUBJECT)
    body = forms.CharField(
        label="Your message", max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 5}), strip=False
    )
    attachments = MultipleFileField(label="Attachments")
