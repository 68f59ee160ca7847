"""The manager dashboard: period and filters in the URL, charts with table views, CSV export."""

from __future__ import annotations

from datetime import timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboards.selectors.dashboard import TenantChoices, dashboard_data, tenant_choices
from dashboards.selectors.scope import Scope
from dashboards.services.export import dashboard_export_record
from dashboards.views import charts
from dashboards.views.export import write_csv
from dashboards.views.forms import DEFAULT_PERIOD, DashboardFilterForm
from dashboards.views.presentation import DeskLinks
from tenancy.decorators import manager_required
from tenancy.http import TenantRequest
from tenancy.replicas import replica_reads


def _ask_for_refresh(data: charts.DashboardData, tenant_id: int) -> bool:
    """Figures older than two refresh intervals (or none yet) mean the beat task is behind:
    ask a worker for this tenant's refresh. A trigger only; the refresh locks per tenant."""
    interval = timedelta(seconds=settings.DASHBOARD_REFRESH_SECONDS)
    if data.refreshed_at is not None and data.refreshed_at > timezone.now() - 2 * interval:
        return False
    from dashboards.tasks import refresh_tenant_rollups

    # robust: a broker that is away must not cost the page; beat refreshes on its own schedule.
    transaction.on_commit(
        lambda: refresh_tenant_rollups.apply_async((tenant_id,), expires=interval.total_seconds()),
        robust=True,
    )
    return True


def _filters_text(form: DashboardFilterForm) -> str:
    if not form.is_valid():
        return "none (the filters given were not valid)"
    parts = []
    for name in ("group", "category", "priority"):
        value = form.cleaned_data.get(name)
        if value:
            field = form.fields[name]
            assert isinstance(field, forms.ChoiceField)
            labels = dict(cast(list[tuple[str, str]], field.choices))
            parts.append(f"{field.label}: {labels[value]}")
    return "; ".join(parts) or "none"


def dashboard_scope(
    request: TenantRequest,
) -> tuple[Scope, DashboardFilterForm, TenantChoices]:
    """The period and filters of the URL (the page's, or the one a card was loaded with)."""
    tenant = request.tenant
    params: QueryDict = request.GET.copy()
    params.setdefault("period", DEFAULT_PERIOD)
    choices = tenant_choices(tenant)
    form = DashboardFilterForm(
        params, groups=choices.groups, categories=choices.categories, levels=choices.active_levels
    )
    return form.scope(ZoneInfo(tenant.time_zone)), form, choices


def _dashboard(request: TenantRequest) -> tuple[charts.Dashboard, DashboardFilterForm]:
    tenant = request.tenant
    scope, form, choices = dashboard_scope(request)
    data = dashboard_data(tenant=tenant, scope=scope, choices=choices)
    data.refreshing = _ask_for_refresh(data, tenant.pk)
    return charts.build(data, DeskLinks(tenant.slug, scope)), form


@require_GET
@manager_required
@replica_reads
def home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    dashboard, form = _dashboard(request)
    export = reverse("dashboards-export", kwargs={"tenant_slug": tenant_slug})
    context = {
        "dashboard": dashboard,
        "form": form,
        "export_url": f"{export}?{request.GET.urlencode()}",
        "query": request.GET.urlencode(),  # the cards loaded by htmx get the same filters
        "refresh_minutes": max(1, settings.DASHBOARD_REFRESH_SECONDS // 60),
    }
    partial = bool(getattr(request, "htmx", False))  # django_htmx's HtmxMiddleware sets it
    template = "dashboards/_body.html" if partial else "dashboards/home.html"
    return render(request, template, context)


@require_GET
@manager_required
@replica_reads
def export_csv(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    dashboard, form = _dashboard(request)
    scope = dashboard.data.scope
    name = f"dashboard-{tenant_slug}-{scope.date_from}-{scope.date_to}.csv"
    filters = _filters_text(form)
    dashboard_export_record(
        actor=request.actor,
        date_from=scope.date_from,
        date_to=scope.date_to,
        filters=filters,
        file_name=name,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    write_csv(response, dashboard, tenant_name=request.tenant.name, filters=filters)
    return response
