"""The review's forms: they check the shape of the input; the services decide the rest."""

from __future__ import annotations

from django import forms

from reviews.services import TIMELINE_TEXT_MAX
from tenancy.forms import PlainLabels
from tenancy.models import STAFF_ROLES, Tenant, User

AREA = {"rows": 4}


class ReviewForm(PlainLabels, forms.Form):
    summary = forms.CharField(label="Summary", required=False, widget=forms.Textarea(AREA))
    customer_impact = forms.CharField(
        label="Customer impact", required=False, widget=forms.Textarea(AREA)
    )
    root_cause = forms.CharField(label="Root cause", required=False, widget=forms.Textarea(AREA))
    went_well = forms.CharField(label="What went well", required=False, widget=forms.Textarea(AREA))
    went_badly = forms.CharField(
        label="What went badly", required=False, widget=forms.Textarea(AREA)
    )


class EntryForm(PlainLabels, forms.Form):
    at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Give a date and time, like 2026-03-01 14:30."},
    )
    text = forms.CharField(
        label="What happened", max_length=TIMELINE_TEXT_MAX, widget=forms.Textarea({"rows": 2})
    )


class ActionForm(PlainLabels, forms.Form):
    title = forms.CharField(label="Action", max_length=200)
    owner = forms.ModelChoiceField(
        label="Owner", queryset=User.objects.none(), empty_label="Choose an agent"
    )
    due_date = forms.DateField(
        label="Due date",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Give a date, like 2026-03-31."},
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = User.objects.filter(
            memberships__tenant=tenant,
            memberships__role__in=STAFF_ROLES,
            memberships__is_active=True,
        ).order_by("full_name", "email")
