"""Tenant settings: intake addresses (their defaults and IMAP polling) and the policy for
senders who are not members. Admins only; any other role gets the same 404 as a stranger."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mail.models import IntakeAddress
from mail.selectors import inbound_counts, intake_addresses_for_settings, mail_policy_for
from mail.services.admin import (
    intake_address_create,
    intake_address_deactivate,
    intake_address_reactivate,
    intake_address_update,
    mail_policy_set,
)
from mail.views.forms import IntakeAddressForm, MailPolicyForm
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest

T = "mail/settings/"


def _intake(request: TenantRequest, pk: int) -> IntakeAddress:
    return get_object_or_404(IntakeAddress.objects.for_tenant(request.tenant), pk=pk)


@admin_required
def intake_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    context = {
        "intakes": intake_addresses_for_settings(request.tenant),
        "policy": mail_policy_for(request.tenant),
        "counts": inbound_counts(request.tenant),
    }
    return render(request, T + "intake_list.html", context)


def _intake_form(
    request: TenantRequest, form: IntakeAddressForm, save: Any, intake: IntakeAddress | None
) -> HttpResponse:
    """Validate, call the one service; on a refusal show the form again with the message and
    everything typed (but the password, which is never drawn back)."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Saved {saved.address}.")
            return redirect("settings-mail", tenant_slug=request.tenant.slug)
    return render(request, T + "intake_form.html", {"form": form, "intake": intake})


@admin_required
def intake_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = IntakeAddressForm(request.POST or None, tenant=request.tenant)

    def save(data: dict[str, Any]) -> IntakeAddress:
        return intake_address_create(actor=request.actor, **data)

    return _intake_form(request, form, save, None)


@admin_required
def intake_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    intake = _intake(request, pk)
    form = IntakeAddressForm(
        request.POST or None,
        tenant=request.tenant,
        current=intake,
        initial=IntakeAddressForm.initial_for(intake),
    )

    def save(data: dict[str, Any]) -> IntakeAddress:
        return intake_address_update(actor=request.actor, intake=intake, **data)

    return _intake_form(request, form, save, intake)


@require_POST
@admin_required
def intake_activation(
    request: TenantRequest, tenant_slug: str, pk: int, active: bool
) -> HttpResponse:
    intake = _intake(request, pk)
    service = intake_address_reactivate if active else intake_address_deactivate
    try:
        intake = service(actor=request.actor, intake=intake)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        said = "receives mail again" if active else "is deactivated: mail to it is refused"
        messages.success(request, f"{intake.address} {said}.")
    return redirect("settings-mail", tenant_slug=tenant_slug)


@admin_required
def policy_edit(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    policy = mail_policy_for(request.tenant)
    form = MailPolicyForm(request.POST or None, initial=MailPolicyForm.initial_for(policy))
    if request.method == "POST" and form.is_valid():
        try:
            mail_policy_set(actor=request.actor, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Policy for unknown senders saved.")
            return redirect("settings-mail", tenant_slug=tenant_slug)
    return render(request, T + "policy_form.html", {"form": form})
