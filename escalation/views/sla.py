"""The desk's SLA pages: an incident's clocks and alerts, acknowledging an alert from the desk
or from the signed link of its email."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from escalation.models import SlaAlert
from escalation.selectors.sla import alerts_for_incident, climb_for_incident, clocks_for_incident
from escalation.services.alerts import ack_token_read, alert_acknowledge
from incidents.models import Incident
from incidents.selectors import incident_for_actor
from tenancy.actors import Actor
from tenancy.decorators import staff_required, tenant_public
from tenancy.errors import Refusal
from tenancy.http import TenantRequest
from tenancy.links import NOT_A_LINK
from tenancy.models import STAFF_ROLES, Membership


def _incident(request: TenantRequest, number: int) -> Incident:
    return incident_for_actor(actor=request.actor, number=number)


@staff_required
def incident_sla(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = _incident(request, number)
    context = {
        "incident": incident,
        "sla_clocks": clocks_for_incident(incident, actor=request.actor, explain=True),
        "alerts": alerts_for_incident(incident),
        "climb": climb_for_incident(incident),
    }
    return render(request, "escalation/incident_sla.html", context)


@staff_required
def clock_panel(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """The panel alone, for htmx polling from the incident page."""
    incident = _incident(request, number)
    clocks = clocks_for_incident(incident, actor=request.actor, explain=True)
    return render(
        request, "escalation/clock_panel.html", {"incident": incident, "sla_clocks": clocks}
    )


@require_POST
@staff_required
def alert_ack(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    alert = get_object_or_404(SlaAlert.objects.for_tenant(request.tenant), pk=pk)
    try:
        alert_acknowledge(alert=alert, actor=request.actor, via="desk")
        messages.success(request, "Alert acknowledged; the escalation stops here.")
    except Refusal as exc:
        messages.error(request, exc.message)
    number = Incident.objects.for_tenant(request.tenant).get(pk=alert.incident_id).number
    return redirect("escalation-incident-sla", tenant_slug=tenant_slug, number=number)


def _link_target(tenant_slug: str, token: str) -> tuple[SlaAlert, Membership, bool]:
    """The alert and the member a genuine link was made for, and whether it expired; 404 for
    anything else."""
    alert_id, user_id, expired = ack_token_read(token)
    membership = (
        Membership.objects.select_related("tenant", "user")
        .filter(
            tenant__slug=tenant_slug,
            tenant__is_active=True,
            user_id=user_id,
            is_active=True,
            user__is_active=True,
        )
        .first()
    )
    if membership is None or membership.role not in STAFF_ROLES:
        raise Http404(NOT_A_LINK)
    alert = get_object_or_404(SlaAlert.objects.for_tenant(membership.tenant), pk=alert_id)
    return alert, membership, expired


@tenant_public
def alert_ack_link(request: TenantRequest, tenant_slug: str, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links), POST acknowledges as the person it was sent to."""
    alert, membership, expired = _link_target(tenant_slug, token)
    incident = Incident.objects.for_tenant(membership.tenant).get(pk=alert.incident_id)
    context = {"alert": alert, "incident": incident, "member": membership, "done": False}
    if expired:
        context["error"] = "This link has expired. Acknowledge the alert from the desk instead."
        return render(request, "escalation/ack_link.html", context, status=410)
    if request.method == "POST":
        try:
            alert_acknowledge(alert=alert, actor=Actor.member(membership), via="email link")
            context["done"] = True
        except Refusal as exc:
            context["error"] = exc.message
    return render(request, "escalation/ack_link.html", context)
