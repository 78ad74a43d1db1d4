"""Forms of the agent workspace, the help center and the survey page. They check the shape of input; the rules
live in support.services, whose field messages the views copy onto these forms (accounts.forms.add_service_errors)."""

from __future__ import annotations

from typing import Any

from django import forms

from saypro.forms import PageForm

from .models import Channel, Department, KnownIssue, Macro, Priority, Status

BLANK = [("", "Any")]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject, name, e-mail, phone or #id"}),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True), required=False, to_field_name="slug", empty_label="Any"
    )
    priority = forms.ChoiceField(choices=BLANK + Priority.choices, required=False)
    channel = forms.ChoiceField(choices=BLANK + Channel.choices, required=False)
    at_risk = forms.BooleanField(required=False)
    breached = forms.BooleanField(required=False)

    def selector_kwargs(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "", False)}


class ReplyForm(PageForm):
    id_prefix = "reply"
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 9, "aria-keyshortcuts": "r"}), label="Reply", max_length=20_000
    )
    internal = forms.BooleanField(required=False, label="Internal note (not sent to the requester)")
    status = forms.ChoiceField(
        choices=[
            ("", "Keep status"),
            (Status.PENDING, "Pending on user"),
            (Status.ON_HOLD, "On hold"),
            (Status.SOLVED, "Solved"),
        ],
        required=False,
        label="Then set status",
    )
    macro = forms.ModelChoiceField(queryset=Macro.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, macros: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if macros is not None:
            self.fields["macro"].queryset = macros  # type: ignore[attr-defined]


class PropertiesForm(PageForm):
    id_prefix = "properties"
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="— triage —",
    )


class CcForm(PageForm):
    id_prefix = "cc"
    cc = forms.CharField(
        required=False,
        max_length=2600,
        label="CC",
        help_text="E-mail addresses copied on public replies, one per line or comma-separated.",
    )

    def addresses(self) -> list[str]:
        return [part for part in self.cleaned_data["cc"].replace(",", "\n").split() if part]


class MergeForm(PageForm):
    id_prefix = "merge"
    into = forms.IntegerField(min_value=1, label="Merge into ticket #")


class KnownIssueLinkForm(PageForm):
    id_prefix = "known-issue"
    known_issue = forms.ModelChoiceField(
        queryset=KnownIssue.objects.exclude(status=KnownIssue.State.WONT_FIX), required=False, empty_label="— none —"
    )


class KnownIssueForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    status = forms.ChoiceField(choices=KnownIssue.State.choices)
    fix = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Fix")


class FollowUpForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What was done", max_length=2000)


class SurveyCommentForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(1, 6)], coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000, label="Anything to add? (optional)"
    )


class ChatTransferForm(PageForm):
    """Hand a chat on: `to` is "agent:<id>" (an agent on shift) or "department:<slug>"."""

    id_prefix = "transfer"
    to = forms.ChoiceField(label="Transfer to")
    note = forms.CharField(
        required=False,
        max_length=1_000,
        label="Note for them (optional)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What they need to know"}),
    )

    def __init__(self, *args: Any, agents: Any = (), departments: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            ("", "Choose…"),
            ("Agents on shift", [(f"agent:{agent.pk}", agent.get_full_name()) for agent in agents]),
            ("Departments", [(f"department:{d.slug}", d.name) for d in departments]),
        ]
        self.agents = {str(agent.pk): agent for agent in agents}
        self.departments = {d.slug: d for d in departments}

    def target(self) -> dict[str, Any]:
        """The service's keyword for the choice: to_agent or to_department."""
        kind, _, key = self.cleaned_data["to"].partition(":")
        return {"to_agent": self.agents[key]} if kind == "agent" else {"to_department": self.departments[key]}


class ChatConvertForm(PageForm):
    id_prefix = "convert"
    note = forms.CharField(
        required=False,
        max_length=1_000,
        label="Add to the message (optional)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. I will check with the billing team"}),
    )
