"""The on-call forms: they check the shape of the input; the services decide the rest.
Times are read and shown in the schedule's own time zone (the views activate it)."""

from __future__ import annotations

from typing import cast

from django import forms

from incidents.selectors.config import staff_users
from oncall.models import Rotation
from tenancy.forms import PlainLabels
from tenancy.models import Tenant, User

WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
BAD_WHEN = {"invalid": "Give a date and time, like 2026-03-01 14:30."}
DAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]


class StaffChoiceField(forms.ModelChoiceField):
    """A person of the desk's staff, named with their address (two people may share a name)."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.display_name} <{obj.email}>"


def _staff_field(form: forms.Form, name: str, tenant: Tenant) -> None:
    cast(forms.ModelChoiceField, form.fields[name]).queryset = staff_users(tenant)


class ScheduleForm(PlainLabels, forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(
        max_length=64, initial="UTC", help_text="A name such as Europe/Berlin or America/New_York."
    )
    fallback = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="The desk's managers",
        label="When nobody is on call, page",
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _staff_field(self, "fallback", tenant)


class LayerForm(PlainLabels, forms.Form):
    name = forms.CharField(max_length=100, label="Layer name")
    members = forms.CharField(
        widget=forms.Textarea({"rows": 3}),
        label="Members, in turn order (one email address a line)",
    )
    rotation = forms.ChoiceField(choices=Rotation.choices, initial=Rotation.WEEKLY)
    shift_hours = forms.IntegerField(
        min_value=1, required=False, label="Shift length in hours (custom)"
    )
    rotation_start = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="First handoff on"
    )
    handoff_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), initial="09:00")
    restrict_days = forms.TypedMultipleChoiceField(
        choices=DAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only on (none: every day)",
    )
    restrict_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), label="Only from"
    )
    restrict_end = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"}), label="until"
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_members(self) -> list[int]:
        emails = [e.strip().lower() for e in self.cleaned_data["members"].split() if e.strip()]
        staff = {u.email.lower(): u.pk for u in staff_users(self.tenant)}
        unknown = [e for e in emails if e not in staff]
        if unknown:
            raise forms.ValidationError(
                f"Not one of the desk's staff: {', '.join(unknown)}.", code="unknown"
            )
        return [staff[e] for e in emails]


class OverrideForm(PlainLabels, forms.Form):
    user = StaffChoiceField(queryset=User.objects.none(), label="Who covers")
    starts_at = forms.DateTimeField(widget=WHEN, label="From", error_messages=BAD_WHEN)
    ends_at = forms.DateTimeField(widget=WHEN, label="Until", error_messages=BAD_WHEN)
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _staff_field(self, "user", tenant)
