"""Forms of the reports pages: the period picker, the report request and the improvement log."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from messaging.models import Category as MessageCategory
from saypro import periods
from saypro.localtime import validate_day
from saypro.periods import Period

from .models import Improvement, ReportKind
from .sections import AREAS
from .services import REPORT_FILTERS

PERIOD_CHOICES = [
    (periods.WEEK, "Week"),
    (periods.MONTH, "Month"),
    (periods.QUARTER, "Quarter"),
    (periods.CUSTOM, "Custom range"),
]


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.Form):
    """A week, month or quarter containing `day` (default today), or a custom range of days."""

    period = forms.ChoiceField(choices=PERIOD_CHOICES, initial=periods.MONTH, required=False)
    day = forms.DateField(required=False, widget=DateInput, label="Containing", validators=[validate_day])
    start = forms.DateField(required=False, widget=DateInput, label="From", validators=[validate_day])
    end = forms.DateField(required=False, widget=DateInput, label="To", validators=[validate_day])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == periods.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Give both the first and the last day of the custom range.")
            try:
                data["chosen"] = periods.custom(start, end)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        elif not self.errors:
            data["chosen"] = periods.containing(data.get("period") or periods.MONTH, data.get("day") or periods.today())
        return data

    def chosen(self) -> Period:
        """The picked period; the current month when the input is missing or wrong (the errors are shown)."""
        if self.is_valid():
            return self.cleaned_data["chosen"]
        return periods.current(periods.MONTH)


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportKind.choices, initial=ReportKind.QUARTERLY)
    day = forms.DateField(
        widget=DateInput,
        label="Any day of the period",
        help_text="The week, month or quarter that contains this day.",
        validators=[validate_day],
    )
    # The documents' custom reports: the figures that can be split by these are read for the value chosen.
    category = forms.ChoiceField(
        choices=[("", "All inquiry types"), *MessageCategory.choices], required=False, label="Inquiry type"
    )
    ad_category = forms.CharField(
        max_length=REPORT_FILTERS["ad_category"], required=False, label="Ad category", help_text="Blank: all."
    )
    region = forms.CharField(max_length=REPORT_FILTERS["region"], required=False, help_text="Blank: all.")

    def filters(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in REPORT_FILTERS if self.cleaned_data.get(name)}

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        if day > periods.today():
            raise forms.ValidationError("Choose a day that has begun.")
        return day


class ImprovementForm(forms.ModelForm):
    area = forms.ChoiceField(choices=[("", "All areas"), *AREAS.items()], required=False)

    class Meta:
        model = Improvement
        fields = ["kind", "title", "area", "made_on", "description"]
        widgets = {"made_on": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"made_on": "Made on", "title": "Change"}


class TopicImprovementForm(forms.ModelForm):
    """An improvement answering a comment topic: a change made from user feedback, in support's area."""

    class Meta:
        model = Improvement
        fields = ["title", "made_on", "description"]
        widgets = {"made_on": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"made_on": "Made on", "title": "Change"}
        help_texts = {"made_on": "The report compares the topic's comments before and after this day."}


class ReportSubscriptionForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="E-mail me these reports when they are generated",
        choices=ReportKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
