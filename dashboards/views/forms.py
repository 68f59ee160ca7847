"""The dashboard's period and filters, read from the URL (so a view can be bookmarked)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django import forms

from dashboards.selectors.scope import Scope, last_days
from incidents.models import AssignmentGroup, Category, PriorityLevel
from tenancy.inputs import DayField

PERIODS = (
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "From – to"),
)
DEFAULT_PERIOD = "30"
MAX_DAYS = 366


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, label="Period")
    date_from = DayField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DayField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(required=False, label="Group")
    category = forms.ChoiceField(required=False, label="Category")
    priority = forms.ChoiceField(required=False, label="Priority")

    def __init__(
        self,
        data,
        *,
        groups: list[AssignmentGroup],
        categories: list[Category],
        levels: list[PriorityLevel],
    ) -> None:
        super().__init__(data, label_suffix="")
        choices = {
            "group": [("", "Any group"), ("none", "No group")]
            + [(str(g.pk), g.name) for g in groups],
            "category": [("", "Any category"), ("none", "No category")]
            + [(str(c.pk), c.name) for c in categories],
            "priority": [("", "Any priority")] + [(str(lv.pk), lv.label) for lv in levels],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("period") != "custom":
            return data
        start, end = data.get("date_from"), data.get("date_to")
        if start is None or end is None:
            raise forms.ValidationError("Give both dates of the period (from and to).")
        if start > end:
            self.add_error("date_to", "The end of the period comes before its start.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("date_to", f"Choose a period of at most {MAX_DAYS} days.")
        return data

    def scope(self, tz: ZoneInfo) -> Scope:
        """The scope asked for; the default (last 30 days, no filter) when the input is bad."""
        if not self.is_valid():
            return Scope(*last_days(int(DEFAULT_PERIOD), tz), tz=tz)
        data = self.cleaned_data
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            start, end = data["date_from"], data["date_to"]
        else:
            start, end = last_days(int(period), tz)
        return Scope(
            start,
            end,
            tz=tz,
            group=data.get("group") or "",
            category=data.get("category") or "",
            priority=data.get("priority") or "",
        )
