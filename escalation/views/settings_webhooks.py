"""Tenant settings: webhook endpoints, a test ping, and each endpoint's delivery log."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from escalation.models import WebhookEndpoint
from escalation.services.webhooks import (
    endpoint_deliveries,
    webhook_endpoint_create,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_set_active,
    webhook_endpoint_update,
)
from escalation.views.webhook_forms import WebhookEndpointEditForm, WebhookEndpointForm
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest


def _endpoint(request: TenantRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.for_tenant(request.tenant), pk=pk)


@admin_required
def webhook_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.for_tenant(request.tenant).order_by("-is_active", "id")
    return render(request, "escalation/webhook_list.html", {"endpoints": endpoints})


@admin_required
def webhook_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_endpoint_create(actor=request.actor, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Endpoint added. Give its signing secret to the receiver.")
            return redirect("settings-webhooks-detail", tenant_slug=tenant_slug, pk=endpoint.pk)
    return render(request, "escalation/webhook_form.html", {"form": form})


@admin_required
def webhook_detail(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """Edit the endpoint; below the form, its secret, a test button and the delivery log."""
    endpoint = _endpoint(request, pk)
    initial = {f: getattr(endpoint, f) for f in WebhookEndpointEditForm.base_fields}
    form = WebhookEndpointEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhook_endpoint_update(actor=request.actor, endpoint=endpoint, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("settings-webhooks-detail", tenant_slug=tenant_slug, pk=pk)
    context = {
        "endpoint": endpoint,
        "form": form,
        "deliveries": endpoint_deliveries(endpoint=endpoint),
    }
    return render(request, "escalation/webhook_detail.html", context)


@require_POST
@admin_required
def webhook_toggle(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    endpoint = webhook_endpoint_set_active(
        actor=request.actor, endpoint=endpoint, active=not endpoint.is_active
    )
    messages.success(request, f"Endpoint {'enabled' if endpoint.is_active else 'disabled'}.")
    return redirect("settings-webhooks-detail", tenant_slug=tenant_slug, pk=pk)


@require_POST
@admin_required
def webhook_ping(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    try:
        webhook_endpoint_ping(actor=request.actor, endpoint=_endpoint(request, pk))
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Test ping queued: its result appears in the log below.")
    return redirect("settings-webhooks-detail", tenant_slug=tenant_slug, pk=pk)


@require_POST
@admin_required
def webhook_rotate(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    webhook_endpoint_rotate_secret(actor=request.actor, endpoint=_endpoint(request, pk))
    messages.success(request, "New signing secret made: update the receiver, the old one is void.")
    return redirect("settings-webhooks-detail", tenant_slug=tenant_slug, pk=pk)
