"""Settings → Members → a member's personal data: export it as JSON, or erase it once they have
left (tenancy/personal_data_services.py). Admins only; another tenant's member is a 404."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import PlainLabels, show_refusal
from tenancy.http import TenantRequest
from tenancy.models import Membership
from tenancy.personal_data_services import person_erase, person_export


class EraseForm(PlainLabels, forms.Form):
    confirm = forms.CharField(
        label="Type their email address to confirm",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _member(request: TenantRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.for_tenant(request.tenant).select_related("user"), pk=pk
    )


def _page(request: TenantRequest, member: Membership, form: EraseForm, status: int = 200):
    context = {"member": member, "form": form}
    return render(request, "tenancy/settings_personal_data.html", context, status=status)


@admin_required
def personal_data(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    return _page(request, _member(request, pk), EraseForm())


@admin_required
@require_POST
def personal_data_export(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    member = _member(request, pk)
    document = person_export(actor=request.actor, membership=member)
    body = json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = f"personal-data-{request.tenant.slug}-{member.user_id}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin_required
@require_POST
def personal_data_erase(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = EraseForm(request.POST)
    if form.is_valid():
        was = member.user.display_name
        try:
            alias = person_erase(
                actor=request.actor, membership=member, confirm=form.cleaned_data["confirm"]
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(
                request,
                f"{was}'s personal data is erased. Their incidents stay, under “{alias.name}”.",
            )
            return redirect("settings-members", tenant_slug=tenant_slug)
    return _page(request, member, form, status=400)
