"""The tenant admin's imports page: upload a file, follow its progress, read its report.

Admins only; any other role gets the same 404 as a stranger, whatever the method.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from imports.forms import ImportForm
from imports.models import ImportRun
from imports.report import filled_text
from imports.services.runs import import_run_create
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest
from tenancy.replicas import replica_reads

RECENT_RUNS = 20


@admin_required
def imports(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    initial = {"time_zone": request.tenant.time_zone}
    form = ImportForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            run = import_run_create(
                actor=request.actor, upload=form.cleaned_data["file"], **_options(form)
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            return redirect("settings-import-detail", tenant_slug, run.pk)
    runs = ImportRun.objects.for_tenant(request.tenant).select_related("created_by")
    context = {"form": form, "runs": runs[:RECENT_RUNS]}
    return render(request, "imports/settings_imports.html", context)


def _options(form: ImportForm) -> dict:
    data = form.cleaned_data
    return {
        "format": data["format"],
        "time_zone": data["time_zone"].strip(),
        "adopt_matrix": data["adopt_matrix"],
    }


def _run(request: TenantRequest, pk: int) -> ImportRun:
    return get_object_or_404(ImportRun.objects.for_tenant(request.tenant), pk=pk)


@admin_required
@replica_reads
def import_detail(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    run = _run(request, pk)
    return render(request, "imports/import_detail.html", {"run": run, "filled": filled_text(run)})


@admin_required
@replica_reads
def import_progress(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """The part of the run's page that htmx polls while the run is going."""
    run = _run(request, pk)
    return render(request, "imports/_run.html", {"run": run, "filled": filled_text(run)})
