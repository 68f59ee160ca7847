"""Forms of the problem pages. They validate input and turn ids and numbers into the tenant's
objects; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from incidents.models import AssignmentGroup, Incident, Level
from incidents.models.incident import format_reference
from incidents.selectors import REFERENCE
from problems.models import Problem
from problems.selectors import parse_problem_reference
from tenancy.models import STAFF_ROLES, Tenant, User


def _text(label: str, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=20_000, widget=forms.Textarea({"rows": rows})
    )


class ProblemForm(forms.Form):
    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tenant = tenant


def incidents_by_numbers(tenant: Tenant, text: str) -> list[Incident]:
    """The tenant's incidents named in `text` (INC-000042, 42; commas or spaces between)."""
    texts = [t for t in (text or "").replace(",", " ").split() if t]
    numbers: list[int] = []
    unknown: list[str] = []
    for item in texts:
        match = REFERENCE.match(item)
        if match:
            numbers.append(int(match.group(1)))
        else:
            unknown.append(item)
    found = {i.number: i for i in Incident.objects.for_tenant(tenant).filter(number__in=numbers)}
    unknown += [format_reference(n) for n in numbers if n not in found]
    if unknown:
        raise ValidationError(f"There is no incident {', '.join(unknown)} here.")
    return [found[n] for n in dict.fromkeys(numbers)]


def problem_by_number(tenant: Tenant, text: str) -> Problem:
    number = parse_problem_reference(text)
    found = Problem.objects.for_tenant(tenant).filter(number=number).first() if number else None
    if found is None:
        raise ValidationError(f"There is no problem {text.strip() or '(none given)'} here.")
    return found


class AgentField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class NewProblemForm(ProblemForm):
    title = forms.CharField(max_length=200, label="Title")
    description = _text("Description", required=False, rows=4)
    impact = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM, label="Impact")
    urgency = forms.ChoiceField(choices=Level.choices, initial=Level.MEDIUM, label="Urgency")
    owner = AgentField(queryset=User.objects.none(), required=False, label="Owner")
    group = forms.ModelChoiceField(
        queryset=AssignmentGroup.objects.none(), required=False, label="Group"
    )
    incidents = forms.CharField(
        required=False, max_length=2000, label="Incidents (numbers, optional)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        group = self.fields["group"]
        assert isinstance(owner, forms.ModelChoiceField)
        assert isinstance(group, forms.ModelChoiceField)
        owner.queryset = User.objects.filter(
            memberships__tenant=self.tenant,
            memberships__role__in=STAFF_ROLES,
            memberships__is_active=True,
            is_active=True,
        ).order_by("full_name")
        group.queryset = AssignmentGroup.objects.for_tenant(self.tenant).filter(is_active=True)

    def clean_incidents(self) -> list[Incident]:
        return incidents_by_numbers(self.tenant, self.cleaned_data["incidents"])


class NoteForm(ProblemForm):
    note = _text("Note", required=False, rows=2)


class KnownErrorForm(ProblemForm):
    root_cause = _text("Root cause", required=False)
    workaround = _text("Workaround (what agents and users can do meanwhile)", required=False)


class ResolveForm(ProblemForm):
    fix = _text("The fix (what removed the root cause)", required=False)
    change_reference = forms.CharField(required=False, max_length=100, label="Change reference")
    resolve_incidents = forms.TypedChoiceField(
        label="Its open incidents",
        choices=[
            ("yes", "Resolve them now (Solved permanently; each reporter asked to confirm)"),
            ("no", "Leave them to their agents"),
        ],
        coerce=lambda v: v == "yes",
        initial="yes",
        widget=forms.RadioSelect,
    )


class CancelForm(ProblemForm):
    reason = _text("Why cancel", required=False, rows=2)


class LinkIncidentsForm(ProblemForm):
    incidents = forms.CharField(max_length=2000, label="Incidents (numbers)")

    def clean_incidents(self) -> list[Incident]:
        return incidents_by_numbers(self.tenant, self.cleaned_data["incidents"])


class PickProblemForm(ProblemForm):
    """On the incident page: the problem to link to, by its number."""

    problem = forms.CharField(max_length=20, label="Problem (number)")

    def clean_problem(self) -> Problem:
        return problem_by_number(self.tenant, self.cleaned_data["problem"])
