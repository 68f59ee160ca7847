"""Tenant settings: the messages the desk received, what became of each, and a retry for those
that failed or were refused. A message is only ever shown as escaped text, never as HTML."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mail.models import InboundMail, InboundStatus
from mail.selectors import inbound_counts, inbound_for_settings, inbound_source
from mail.services.admin import RETRYABLE, inbound_retry
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.http import TenantRequest

T = "mail/settings/"
PAGE_SIZE = 30


@admin_required
def inbound_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in InboundStatus.values else ""
    rows = inbound_for_settings(request.tenant, status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = inbound_counts(request.tenant)
    context = {
        "page": page,
        "status": status,
        "statuses": [(value, label, counts[value]) for value, label in InboundStatus.choices],
        "retryable": RETRYABLE,
    }
    return render(request, T + "inbound_list.html", context)


@admin_required
def inbound_detail(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    inbound = get_object_or_404(
        InboundMail.objects.for_tenant(request.tenant).select_related("intake", "incident"), pk=pk
    )
    context = {"inbound": inbound, "source": inbound_source(inbound), "retryable": RETRYABLE}
    return render(request, T + "inbound_detail.html", context)


@require_POST
@admin_required
def inbound_retry_view(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    inbound = get_object_or_404(InboundMail.objects.for_tenant(request.tenant).defer("raw"), pk=pk)
    try:
        inbound_retry(actor=request.actor, inbound=inbound)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Processing “{inbound.subject or inbound.message_id}” again.")
    target = request.POST.get("next", "")
    prefix = f"/t/{tenant_slug}/settings/mail/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect(target)
    return redirect("settings-mail-messages", tenant_slug=tenant_slug)
