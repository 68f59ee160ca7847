"""Helpers the portal's views share."""

from __future__ import annotations

import uuid

from django import forms
from django.db.models import Exists, OuterRef
from django.http import QueryDict

from incidents.models import Incident, IncidentMute
from incidents.selectors import incident_for_actor
from tenancy.http import TenantRequest


def requester_incident(request: TenantRequest, number: int) -> Incident:
    """An incident the user reported or joined, in the URL's tenant; anything else is a 404.
    Whether they stopped its emails comes along (the page offers to start or stop them)."""
    muted = IncidentMute.objects.filter(
        tenant=request.tenant, incident=OuterRef("pk"), address=request.user.email.lower()
    )
    return incident_for_actor(
        actor=request.actor, number=number, own=True, annotate={"emails_muted": Exists(muted)}
    )


def replace_value(form: forms.Form, name: str, value: object) -> None:
    """Change one submitted value (a fresh token or version) while keeping everything typed."""
    data = QueryDict(mutable=True)
    data.update(form.data)
    data[form.add_prefix(name)] = str(value)
    form.data = data


def new_token() -> uuid.UUID:
    return uuid.uuid4()
