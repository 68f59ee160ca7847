"""Settings → Single sign-on: the tenant's provider, its test, and an admin's trial sign-in."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sso.forms import SsoConfigForm, initial_from
from sso.models import SsoConfig
from sso.provider import ProviderError, ProviderReport, provider_check
from sso.selectors import sso_config_for_tenant
from sso.services import sso_config_set
from sso.views import sso_start
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest


def _page(
    request: TenantRequest,
    form: SsoConfigForm,
    config: SsoConfig | None,
    report: ProviderReport | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "config": config, "report": report}
    return render(request, "sso/settings_sso.html", context, status=status)


def _form(request: TenantRequest, config: SsoConfig | None, data=None) -> SsoConfigForm:
    return SsoConfigForm(
        data,
        tenant=request.tenant,
        has_secret=bool(config and config.client_secret),
        initial=initial_from(config),
    )


@admin_required
def sso_settings(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    config = sso_config_for_tenant(request.tenant)
    form = _form(request, config, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            config = sso_config_set(actor=request.actor, data=form.settings())
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            state = "on" if config.enabled else "saved but off"
            messages.success(request, f"Single sign-on settings saved: single sign-on is {state}.")
            return redirect("settings-sso", tenant_slug=tenant_slug)
    return _page(request, form, config)


def _stored(request: TenantRequest) -> SsoConfig:
    config = sso_config_for_tenant(request.tenant)
    if config is None:
        raise Http404("Single sign-on is not set up here yet.")
    return config


@admin_required
@require_POST
def sso_test(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Fetch the discovery document and the keys, and say what is wrong in words."""
    config = _stored(request)
    return _page(request, _form(request, config), config, report=provider_check(config))


@admin_required
@require_POST
def sso_try(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The real flow for the admin, whose result page shows the claims and the role they would
    give, changing nothing (sso/views.py: _tried)."""
    config = _stored(request)
    try:
        return sso_start(request, config, trying=True)
    except ProviderError as exc:
        report = ProviderReport(problems=[str(exc)])
        return _page(request, _form(request, config), config, report=report, status=502)
