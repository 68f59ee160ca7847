"""The tenant admin's API keys page: create (the key is shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tenancy.apikeys import api_key_create, api_key_revoke, api_key_rotate
from tenancy.decorators import admin_required
from tenancy.errors import InvalidInput
from tenancy.http import TenantRequest
from tenancy.models import ApiKey, ApiKeyScope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which integration uses it, e.g. “Zabbix” or “Chat bot”."
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        initial=["read", "write"],
        widget=forms.CheckboxSelectMultiple,
        help_text="read: look; write: report and work incidents; admin: change configuration.",
    )


@admin_required
def api_keys(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = api_key_create(
                tenant=request.tenant,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
                actor=request.actor,
            )
        except InvalidInput as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"Key “{key.name}” created. Copy it now: it is not shown again."
            )
            form = ApiKeyForm()
    return _page(request, form, secret)


def _page(request: TenantRequest, form: ApiKeyForm, secret: str | None) -> HttpResponse:
    keys = ApiKey.objects.for_tenant(request.tenant).select_related("created_by")
    return render(
        request, "tenancy/settings_api_keys.html", {"form": form, "keys": keys, "secret": secret}
    )


@admin_required
@require_POST
def api_key_rotate_view(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """The page again, with the new secret shown once (a redirect would lose it)."""
    try:
        key, secret = api_key_rotate(tenant=request.tenant, key_id=pk, actor=request.actor)
    except ApiKey.DoesNotExist:
        raise Http404("No such key.") from None
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("settings-api-keys", tenant_slug=tenant_slug)
    messages.success(
        request,
        f"Key “{key.name}” has a new secret: the old one no longer works. Copy the new one "
        "now: it is not shown again.",
    )
    return _page(request, ApiKeyForm(), secret)


@admin_required
@require_POST
def api_key_revoke_view(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    try:
        key = api_key_revoke(tenant=request.tenant, key_id=pk, actor=request.actor)
    except ApiKey.DoesNotExist:
        raise Http404("No such key.") from None
    messages.success(request, f"Key “{key.name}” revoked: it no longer works.")
    return redirect("settings-api-keys", tenant_slug=tenant_slug)
