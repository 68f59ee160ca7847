"""Helpers the portal's views share."""

from __future__ import annotations

import uuid

from django import forms
from django.http import Http404, QueryDict

from incidents.models import Incident
from portal.selectors import incident_for_requester
from tenancy.errors import Refusal
from tenancy.http import TenantRequest


def requester_incident(request: TenantRequest, number: int) -> Incident:
    """An incident the user reported or joined, in the URL's tenant; anything else is a 404."""
    incident = incident_for_requester(tenant=request.tenant, user=request.user, number=number)
    if incident is None:
        raise Http404("No such incident among yours.")
    return incident


def show_refusal(form: forms.Form, exc: Refusal) -> None:
    """Put a service's refusal next to the field it names, or above the form."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


def replace_value(form: forms.Form, name: str, value: object) -> None:
    """Change one submitted value (a fresh token or version) while keeping everything typed."""
    data = QueryDict(mutable=True)
    data.update(form.data)
    data[form.add_prefix(name)] = str(value)
    form.data = data


def new_token() -> uuid.UUID:
    return uuid.uuid4()
