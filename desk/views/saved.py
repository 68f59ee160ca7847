"""An agent's saved views: save the queue page's filters under a name, rename, delete. Each
view is the agent's own; anyone else's (or another tenant's) is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from desk import services
from desk.models import SAVED_VIEW_NAME_MAX, SavedView
from desk.search import saved_view_for, saved_views_for, view_query
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.http import TenantRequest
from tenancy.inputs import whole_number


def view_url(request: TenantRequest, view: SavedView) -> str:
    """The queue page the view names, marked as that view (its tab is then the current one)."""
    base = reverse("desk-queue", kwargs={"tenant_slug": request.tenant.slug})
    return f"{base}?{view.query}&view={view.pk}" if view.query else f"{base}?view={view.pk}"


def saved_views_context(request: TenantRequest, params: QueryDict) -> dict[str, Any]:
    """The agent's views for the queue tabs, the one shown now, and what "Save" would keep."""
    views = saved_views_for(tenant=request.tenant, user=request.user)
    chosen = whole_number(params.get("view", ""))
    for view in views:
        view.url = view_url(request, view)  # type: ignore[attr-defined]
    return {
        "saved_views": views,
        "current_view": next((v for v in views if v.pk == chosen), None),
        "view_query": view_query(params),
        "view_name_max": SAVED_VIEW_NAME_MAX,
    }


def _form(request: TenantRequest, context: dict[str, Any], error: Refusal) -> HttpResponse:
    """The form again with what the agent typed and why it was refused."""
    context.update(error=error.message, view_name_max=SAVED_VIEW_NAME_MAX)
    return render(request, "desk/saved_view_form.html", context, status=400)


@require_POST
@staff_required
def create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    name = request.POST.get("name", "")
    query = view_query(QueryDict(request.POST.get("query", "")))
    try:
        view = services.saved_view_create(actor=request.actor, name=name, query=query)
    except Refusal as error:
        return _form(request, {"name": name, "query": query, "view": None}, error)
    messages.success(request, f"Saved the view “{view.name}”: it is among your queue tabs.")
    return redirect(view_url(request, view))


@require_http_methods(["GET", "POST"])
@staff_required
def edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """Rename (POST) or look at one of the agent's views, with its delete button."""
    view = saved_view_for(tenant=request.tenant, user=request.user, pk=pk)
    context: dict[str, Any] = {"view": view, "name": view.name, "query": view.query}
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            services.saved_view_rename(actor=request.actor, view=view, name=name)
        except Refusal as error:
            context["name"] = name
            return _form(request, context, error)
        messages.success(request, f"Renamed the view to “{view.name}”.")
        return redirect(view_url(request, view))
    context.update(view_url=view_url(request, view), view_name_max=SAVED_VIEW_NAME_MAX)
    return render(request, "desk/saved_view_form.html", context)


@require_POST
@staff_required
def delete(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    view = saved_view_for(tenant=request.tenant, user=request.user, pk=pk)
    services.saved_view_delete(actor=request.actor, view=view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    base = reverse("desk-queue", kwargs={"tenant_slug": request.tenant.slug})
    return redirect(f"{base}?{view.query}" if view.query else base)
