"""Forms of the staff pages and the public sign-up pages.

Forms only parse and check the shape of input; the rules (valid phone, unique e-mail, who may decide what) live in
accounts.services, whose InvalidInput field messages are copied onto these forms by the views.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any, cast

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from .identity import country_choices, language_choices
from .models import PENDING_STATUSES, AgeBand, BlockRule, DelayCause, RegistrationSignal, RegistrationStatus

QUEUE_MAX_SELECTION = 200
FORM_TOKEN_SALT = "accounts.forms.RegisterForm.served_at"


# --- Staff: review queue --------------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "All pending"),
            *[(s.value, s.label) for s in PENDING_STATUSES],
            (RegistrationStatus.APPROVED.value, RegistrationStatus.APPROVED.label),
            (RegistrationStatus.REJECTED.value, RegistrationStatus.REJECTED.label),
        ],
    )
    reason = forms.ChoiceField(required=False, choices=[("", "Any reason"), *RegistrationSignal.Code.choices])
    risk_min = forms.IntegerField(required=False, min_value=0, label="Risk from")
    risk_max = forms.IntegerField(required=False, min_value=0, label="Risk to")
    country = forms.CharField(required=False, max_length=2, label="Country")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, e-mail or phone"}),
    )
    at_risk = forms.BooleanField(required=False, label="At risk only")
    breached = forms.BooleanField(required=False, label="Breached only")

    def clean_country(self) -> str:
        return self.cleaned_data["country"].strip().upper()

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        low, high = data.get("risk_min"), data.get("risk_max")
        if low is not None and high is not None and low > high:
            self.add_error("risk_max", "The upper bound is below the lower bound.")
        return data

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) or None for name in ("status", "reason", "country", "q")} | {
            "risk_min": data.get("risk_min"),
            "risk_max": data.get("risk_max"),
            "at_risk": bool(data.get("at_risk")),
            "breached": bool(data.get("breached")),
        }


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one registration.",
        "invalid": "The selection is not valid.",
        "too_many": "Select at most %(limit)s registrations at a time.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(item) for item in values})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if len(ids) > QUEUE_MAX_SELECTION:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": QUEUE_MAX_SELECTION}
            )
        return ids


class DelayCauseMixin(forms.Form):
    """Deciding past the deadline needs the cause of the delay, so breaches can be explained and fixed."""

    delay_cause = forms.ChoiceField(
        required=False,
        choices=[("", "Choose the cause…"), *DelayCause.choices],
        label="Cause of the delay",
        error_messages={"required": "Past the deadline: choose the cause of the delay."},
    )
    delay_note = forms.CharField(
        required=False, max_length=300, label="Delay note", help_text="Required when the cause is “Other”."
    )

    def __init__(self, *args: Any, breached: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.breached = breached
        self.fields["delay_cause"].required = breached

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("delay_cause") == DelayCause.OTHER and not data.get("delay_note", "").strip():
            self.add_error("delay_note", "Describe the cause of the delay.")
        return data


class BulkDecisionForm(DelayCauseMixin):
    ids = IdListField()
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason",
        help_text="Kept in the audit trail; sent to each applicant if rejected.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("decision") == "reject" and not data.get("reason", "").strip():
            self.add_error("reason", "Give the reason for the rejection.")
        return data


class ApproveForm(DelayCauseMixin):
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional, kept in the audit trail.",
    )


class RejectForm(DelayCauseMixin):
    reason = forms.CharField(
        max_length=1000,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the applicant.",
        error_messages={"required": "Give the reason for the rejection."},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError("Give the reason for the rejection.")
        return reason


class RequestInfoForm(forms.Form):
    message = forms.CharField(
        max_length=2000,
        label="What do you need from the applicant?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mailed to the applicant. The deadline is paused until they answer.",
        error_messages={"required": "Say what the applicant should send."},
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        label="Why can you not decide it?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E-mailed to the administrators, who decide it. The 48-hour deadline keeps running.",
        error_messages={"required": "Say why you escalate it."},
    )


class BlockRuleForm(forms.ModelForm):
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        help_text="Leave empty for a rule that does not expire.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

    class Meta:
        model = BlockRule
        fields = ["kind", "value", "reason", "expires_at"]
        help_texts = {"value": "A domain (spam.example), a network (203.0.113.0/24) or a keyword."}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind, value = data.get("kind"), (data.get("value") or "").strip().lower()
        if not kind or not value:
            return data
        if kind == BlockRule.Kind.IP_RANGE:
            try:
                value = str(ipaddress.ip_network(value, strict=False))
            except ValueError:
                self.add_error("value", "Enter an IP address or a network such as 203.0.113.0/24.")
        elif kind == BlockRule.Kind.EMAIL_DOMAIN:
            value = value.lstrip("@")
            if "." not in value or "@" in value or " " in value:
                self.add_error("value", "Enter a domain such as spam.example.")
        data["value"] = value
        expires_at = data.get("expires_at")
        if expires_at and expires_at <= timezone.now():
            self.add_error("expires_at", "The expiry must be in the future.")
        return data


# --- Public: sign-up and status ---------------------------------------------------------------------------------


class RegisterForm(forms.Form):
    email = forms.EmailField(
        max_length=254, label="E-mail address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        max_length=128,
        label="Password",
        strip=False,
        help_text="At least 8 characters; not only digits, not a common password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    full_name = forms.CharField(
        max_length=150, label="Full name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        max_length=32,
        label="Mobile number",
        help_text="With the country code, e.g. +27 82 123 4567.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    country = forms.ChoiceField(label="Country")
    region = forms.CharField(max_length=100, label="Province or region", required=False)
    language = forms.ChoiceField(choices=language_choices, initial="en", label="Preferred language")
    age_band = forms.ChoiceField(choices=[("", "Choose…"), *AgeBand.choices], label="Age")
    id_document = forms.FileField(
        required=False,
        label="ID document (optional)",
        help_text="A PDF, JPEG or PNG of an identity document, at most 5 MB. It can speed up the review.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    accepted_terms = forms.BooleanField(
        required=False,  # the service refuses a sign-up without it, with the one message the API gives too
        label="I have read the privacy notice and accept the terms of use",
    )
    # A field people never see (hidden by CSS, not type=hidden): bots that fill every input give themselves away.
    website = forms.CharField(
        required=False,
        max_length=200,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(required=False, widget=forms.HiddenInput)
    # The key the page reports its first keystroke with, so the posted form completes the start it made.
    start = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = [("", "Choose…"), *country_choices()]
        if not self.is_bound:
            self.initial["form_token"] = signing.dumps(timezone.now().timestamp(), salt=FORM_TOKEN_SALT)
            self.initial["start"] = secrets.token_hex(16)

    def form_seconds(self) -> float:
        """Seconds since this form was served. A missing or forged token counts as an instant post:
        only a script skips the served form."""
        try:
            served_at = float(signing.loads(self.data.get("form_token", ""), salt=FORM_TOKEN_SALT))
        except (signing.BadSignature, TypeError, ValueError):
            return 0.0
        return max(0.0, timezone.now().timestamp() - served_at)


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        max_length=6,
        min_length=6,
        label="6-digit code",
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "placeholder": "6-digit code",
            }
        ),
    )


class ProvideInfoForm(forms.Form):
    message = forms.CharField(max_length=2000, label="Your answer", widget=forms.Textarea(attrs={"rows": 4}))
    id_document = forms.FileField(
        required=False,
        label="ID document (optional)",
        help_text="A PDF, JPEG or PNG, at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
