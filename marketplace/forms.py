"""Forms of the marketplace pages: filters and bulk actions. The rules live in marketplace.services."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import AccountStatus

from .models import Category, Currency, ListingStatus, TransactionStatus

MAX_SELECTION = 200


class _Filters(forms.Form):
    q = forms.CharField(
        required=False, max_length=100, label="Search", widget=forms.TextInput(attrs={"type": "search"})
    )

    def values(self) -> dict[str, Any]:
        """The cleaned filters, empty ones dropped, for the selector."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", False)}


class ListingFilterForm(_Filters):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ListingStatus.choices])
    category = forms.ModelChoiceField(
        required=False, queryset=Category.objects.all(), empty_label="Any category", to_field_name="slug"
    )
    currency = forms.ChoiceField(required=False, choices=[("", "Any"), *Currency.choices])
    region = forms.CharField(required=False, max_length=100)
    seller_verified = forms.ChoiceField(
        required=False, label="Seller", choices=[("", "Any seller"), ("yes", "Verified"), ("no", "Unverified")]
    )
    created_from = forms.DateField(required=False, label="Posted from", widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, label="Posted to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "Title, text, seller e-mail or #id"


class UserFilterForm(_Filters):
    status = forms.ChoiceField(required=False, label="Account", choices=[("", "Any account"), *AccountStatus.choices])
    verified = forms.ChoiceField(
        required=False, label="Badge", choices=[("", "Any"), ("yes", "Verified"), ("no", "Unverified")]
    )
    struck = forms.BooleanField(required=False, label="With active strikes")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "E-mail, name or phone"


class TransactionFilterForm(_Filters):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *TransactionStatus.choices])
    currency = forms.ChoiceField(required=False, choices=[("", "Any"), *Currency.choices])
    amount_min = forms.DecimalField(required=False, min_value=0, label="Amount from")
    amount_max = forms.DecimalField(required=False, min_value=0, label="Amount to")
    created_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = "#id, listing, buyer or seller e-mail"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The upper bound is below the lower bound.")
        return data


class _Bulk(forms.Form):
    ids = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one row."}
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit trail and shown to the user.",
        error_messages={"required": "Give the reason; it is recorded."},
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service reports those it cannot act on.
        ids = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        ids_field = self.fields["ids"]
        assert isinstance(ids_field, forms.TypedMultipleChoiceField)
        ids_field.choices = [(value, value) for value in ids]

    def clean_ids(self) -> list[int]:
        ids = self.cleaned_data["ids"]
        if len(ids) > MAX_SELECTION:
            raise forms.ValidationError(f"Select at most {MAX_SELECTION} rows at a time.")
        return ids


class ListingBulkForm(_Bulk):
    action = forms.ChoiceField(choices=[("suspend", "Suspend"), ("expire", "Expire"), ("restore", "Restore")])


class UserBulkForm(_Bulk):
    action = forms.ChoiceField(choices=[("suspend", "Suspend"), ("ban", "Ban"), ("reinstate", "Reinstate")])
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=365,
        initial=7,
        label="Suspend for (days)",
        help_text="Empty: until reinstated.",
    )


class TransactionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=TransactionStatus.choices, label="New status")
    note = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))
