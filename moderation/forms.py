"""Forms of the moderation pages: they parse input; the rules live in moderation.services."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import Action, Appeal, CaseStatus, Reason, Rule, Source
from .registry import moderatable_kinds


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Open"), (CaseStatus.DECIDED.value, "Decided"), ("all", "All")]
    )
    kind = forms.ChoiceField(required=False, label="Content")
    reason = forms.ChoiceField(required=False, choices=[("", "Any reason"), *Reason.choices])
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *Source.choices])
    sort = forms.ChoiceField(
        required=False, label="Order", choices=[("", "Deadline, then severity"), ("severity", "Severity first")]
    )
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title, author's name, e-mail or phone"}),
    )
    at_risk = forms.BooleanField(required=False, label="At risk")
    breached = forms.BooleanField(required=False, label="Breached")
    hidden = forms.BooleanField(required=False, label="Hidden now")
    brigading = forms.BooleanField(required=False, label="Possible brigading")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "Any content"), *[(k.kind, k.kind.title()) for k in moderatable_kinds()]]

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or CaseStatus.OPEN
        return {
            "status": "" if status == "all" else status,
            "kind": data.get("kind") or None,
            "reason": data.get("reason") or None,
            "source": data.get("source") or None,
            "q": (data.get("q") or "").strip() or None,
            "sort": data.get("sort") or "deadline",
            **{name: bool(data.get(name)) for name in ("at_risk", "breached", "hidden", "brigading")},
        }


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=Action.choices, widget=forms.RadioSelect, label="Action")
    rule = forms.ChoiceField(
        required=False,
        choices=[("", "Choose the rule broken"), *Rule.choices],
        label="Rule broken",
        help_text="Required for every action except keep.",
    )
    reason = forms.CharField(
        max_length=2000,
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The author is told this reason; reporters are told the outcome.",
        error_messages={"required": "Give the reason; the user is told."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") and data["action"] != Action.KEEP and not data.get("rule"):
            self.add_error("rule", "Choose the rule that was broken.")
        return data


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(Appeal.Status.UPHELD.value, "Uphold the decision"), (Appeal.Status.REVERSED.value, "Reverse it")],
        widget=forms.RadioSelect,
        label="Outcome",
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason",
        help_text="The appellant is told this reason.",
        error_messages={"required": "Give the reason; the user is told."},
    )


class KeywordRuleForm(forms.Form):
    phrase = forms.CharField(max_length=100, label="Word or phrase", help_text="Whole words, any case.")
    reason = forms.ChoiceField(choices=Reason.choices, initial=Reason.SPAM)
    weight = forms.IntegerField(min_value=1, max_value=100, initial=40, help_text="Points toward the score (1–100).")
    note = forms.CharField(max_length=300, required=False)
