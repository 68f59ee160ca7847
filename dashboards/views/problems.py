"""The dashboard's problem figures (problems/figures.py), a card the page loads by htmx with
its own period and filters, like the knowledge and review cards: the page's own pinned
queries and cached figures stay as they are."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboards.selectors.period import dimensions
from dashboards.views.pages import dashboard_scope
from dashboards.views.presentation import DeskLinks
from problems.figures import problem_figures
from tenancy.decorators import manager_required
from tenancy.http import TenantRequest
from tenancy.replicas import replica_reads


@require_GET
@manager_required
@replica_reads
def problems_panel(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    scope, _form, _choices = dashboard_scope(request)
    figures = problem_figures(
        tenant=request.tenant, since=scope.start, until=scope.end, where=dimensions(scope)
    )
    links = DeskLinks(tenant_slug, scope)
    categories = [
        (c, links.in_period("history", category=c.category_id)) for c in figures.top_categories
    ]
    context = {"figures": figures, "scope": scope, "categories": categories}
    return render(request, "dashboards/_problems_panel.html", context)
