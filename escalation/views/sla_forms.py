"""Forms of the SLA settings pages. Durations are typed as people say them ('1h 30m', '45s',
'90' seconds, '1:30:00'), so any target can be set to the second."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import cast

from django import forms

from escalation.calendars import WEEKDAYS, format_hhmm, parse_hhmm
from escalation.models import BusinessCalendar, NotifyKind
from escalation.services.config import check_holidays
from incidents.models import AssignmentGroup, HoldReason
from incidents.selectors.config import staff_users
from oncall.models import Schedule
from tenancy.errors import InvalidInput
from tenancy.inputs import whole_number
from tenancy.models import Tenant, User
from tenancy.services import check_time_zone

_UNITS = {"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
_PART = re.compile(r"([0-9]{1,9})\s*(d|h|min|m|s)")  # nine digits: beyond any target


def parse_duration(text: str) -> int:
    text = (text or "").strip().lower()
    seconds = whole_number(text, max_digits=9)
    if seconds is not None:
        return seconds
    if re.fullmatch(r"[0-9]{1,6}:[0-9]{2}(:[0-9]{2})?", text):
        parts = [int(p) for p in text.split(":")] + [0]
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    found = _PART.findall(text)
    if not found or _PART.sub("", text).strip():
        raise forms.ValidationError("Write a duration such as 30m, 4h, 1h 30m, 45s or 90.")
    return sum(int(n) * _UNITS[unit] for n, unit in found)


def format_duration(seconds: int) -> str:
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"


class DurationField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        seconds = parse_duration(value)
        if seconds <= 0:
            raise forms.ValidationError("At least one second.")
        return seconds

    def prepare_value(self, value):
        return format_duration(value) if isinstance(value, int) else value


def _as_form_error(check: Callable[..., None], *args: str) -> None:
    """Run a service check and show its refusal on the field."""
    try:
        check(*args)
    except InvalidInput as exc:
        raise forms.ValidationError(exc.message) from None


def _choices(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """A choice field of the form, to scope its queryset to the tenant."""
    return cast(forms.ModelChoiceField, form.fields[name])


def _hours_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in spans)


def parse_hours(text: str) -> list[list[str]]:
    spans = []
    for chunk in filter(None, (c.strip() for c in (text or "").split(","))):
        a, sep, b = chunk.replace("–", "-").partition("-")
        try:
            start, end = parse_hhmm(a), parse_hhmm(b)
        except ValueError:
            raise forms.ValidationError(
                "Write hours like 09:00-17:00 (several: 09:00-12:00, 13:00-17:00)."
            ) from None
        if not sep or end <= start:
            raise forms.ValidationError("Each span ends after it starts, like 09:00-17:00.")
        spans.append([format_hhmm(start), format_hhmm(end)])
    return spans


PLAIN_FIELDS = ("name", "time_zone", "always_open", "holiday_country", "holiday_subdivision",
                "is_default")  # fmt: skip


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, help_text="For example Europe/London.")
    always_open = forms.BooleanField(required=False, label="Around the clock (24x7)")
    holiday_country = forms.CharField(
        max_length=8,
        required=False,
        label="Public holidays of country",
        help_text="ISO code, for example GB, DE, US; empty for none.",
    )
    holiday_subdivision = forms.CharField(max_length=16, required=False, label="Region (optional)")
    days_off = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Own days off",
        help_text="One per line: 2026-12-24 Christmas Eve",
    )
    is_default = forms.BooleanField(required=False, label="Default calendar of the desk")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(WEEKDAYS):
            self.fields[f"day_{day}"] = forms.CharField(
                required=False, label=f"{name} hours", help_text="Empty: closed."
            )

    @classmethod
    def initial_for(cls, calendar: BusinessCalendar) -> dict:
        initial = {f: getattr(calendar, f) for f in PLAIN_FIELDS}
        for day in range(7):
            initial[f"day_{day}"] = _hours_text(calendar.weekly_hours.get(str(day), []))
        initial["days_off"] = "\n".join(
            f"{d.date.isoformat()} {d.name}" for d in calendar.days_off.all()
        )
        return initial

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        _as_form_error(check_time_zone, value)
        return value

    def clean_holiday_country(self) -> str:
        value = self.cleaned_data["holiday_country"].strip().upper()
        _as_form_error(check_holidays, value, "")
        return value

    def clean_days_off(self) -> list[tuple[date, str]]:
        out = []
        for line in filter(None, (ln.strip() for ln in self.cleaned_data["days_off"].splitlines())):
            day, _, name = line.partition(" ")
            try:
                out.append((date.fromisoformat(day), name.strip() or "Day off"))
            except ValueError:
                raise forms.ValidationError(
                    f"{line!r}: start each line with a date like 2026-12-24."
                ) from None
        return out

    def clean(self):
        data = super().clean()
        for day in range(7):
            try:
                data[f"day_{day}"] = parse_hours(data.get(f"day_{day}", ""))
            except forms.ValidationError as exc:
                self.add_error(f"day_{day}", exc)
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        values = {f: data[f] for f in PLAIN_FIELDS}
        values["weekly_hours"] = {str(d): data[f"day_{d}"] for d in range(7)}
        return values


def _percents(text: str) -> list[int]:
    try:
        return sorted({int(p) for p in re.split(r"[,\s%]+", text.strip()) if p})
    except ValueError:
        raise forms.ValidationError("Write percentages like 50, 80.") from None


class SlaPolicyForm(forms.Form):
    calendar = forms.ModelChoiceField(queryset=BusinessCalendar.objects.none())
    response_seconds = DurationField(
        label="Response target", help_text="Working time, e.g. 30m or 4h."
    )
    resolution_seconds = DurationField(
        label="Resolution target", help_text="Working time, e.g. 8h or 24h."
    )
    warn_percents = forms.CharField(label="Warn at (% of the target)", initial="50, 80")
    pause_on = forms.MultipleChoiceField(
        choices=HoldReason.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Holds that pause the clocks",
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["calendar"]
        ).queryset = BusinessCalendar.objects.for_tenant(tenant)

    def clean_warn_percents(self) -> list[int]:
        return _percents(self.cleaned_data["warn_percents"])


class EscalationPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    group = forms.ModelChoiceField(
        queryset=AssignmentGroup.objects.none(),
        required=False,
        empty_label="Whole desk",
        label="For group",
    )
    repeat_count = forms.IntegerField(
        min_value=0, max_value=20, initial=0, label="Repeat the levels (times)"
    )
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label="Around the clock (wall-clock time)",
        label="Count the waits in",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["group"]
        ).queryset = AssignmentGroup.objects.for_tenant(tenant).filter(is_active=True)
        cast(
            forms.ModelChoiceField, self.fields["calendar"]
        ).queryset = BusinessCalendar.objects.for_tenant(tenant)


class LevelForm(forms.Form):
    after_seconds = DurationField(label="After (without acknowledgement)", required=False)
    notify = forms.ChoiceField(
        choices=[("", "—"), *NotifyKind.choices], required=False, label="Notify"
    )
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Person")
    schedule = forms.ModelChoiceField(
        queryset=Schedule.objects.none(),
        required=False,
        label="On-call schedule",
        help_text='With "Whoever is on call": paged when the level fires.',
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "user").queryset = staff_users(tenant).order_by("email")
        _choices(self, "schedule").queryset = Schedule.objects.for_tenant(tenant)

    def clean(self):
        data = super().clean()
        if data.get("notify") and not data.get("after_seconds"):
            self.add_error("after_seconds", "Say how long to wait.")
        return data


LevelFormSet = forms.formset_factory(LevelForm, extra=2, max_num=10)
