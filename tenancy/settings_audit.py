"""Settings → Audit log: the tenant's records, newest first, filtered, in words; the same
selection as a CSV file (?export=csv). Admins only."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from tenancy.audit_log import (
    PER_PAGE,
    AuditFilterForm,
    actions_present,
    audit_records,
    csv_lines,
    cursor_after,
    records_after,
    rows_in_words,
)
from tenancy.decorators import admin_required
from tenancy.errors import InvalidInput
from tenancy.http import TenantRequest

FILTERS = ("actor", "action", "target", "date_from", "date_to")


def _filters(form: AuditFilterForm) -> dict[str, Any]:
    """The filters that are valid: a wrong one is shown with its message and left out, and the
    others still apply."""
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if value}


def _export(request: TenantRequest, filters: dict[str, Any]) -> StreamingHttpResponse:
    records = audit_records(tenant=request.tenant, filters=filters)
    response = StreamingHttpResponse(
        csv_lines(records, tenant=request.tenant), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localdate().isoformat()
    name = f"audit-log-{request.tenant.slug}-{day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin_required
def audit_log(request: TenantRequest, tenant_slug: str) -> HttpResponseBase:
    form = AuditFilterForm(request.GET, actions=actions_present(request.tenant))
    filters = _filters(form)
    if request.GET.get("export") == "csv":
        return _export(request, filters)
    records = audit_records(tenant=request.tenant, filters=filters)
    broken = ""
    if cursor := request.GET.get("after", ""):
        try:
            records = records_after(records, cursor)
        except InvalidInput as exc:
            broken = exc.message
    found = list(records[: PER_PAGE + 1])
    shown = found[:PER_PAGE]
    kept = request.GET.copy()
    kept.pop("after", None)
    kept.pop("export", None)
    context = {
        "form": form,
        "rows": rows_in_words(shown),
        "broken": broken,
        "filtered": bool(filters),
        "first_page": bool(cursor) and not broken,
        "query": kept.urlencode(),
        "next_cursor": cursor_after(shown[-1]) if len(found) > PER_PAGE else "",
    }
    return render(request, "tenancy/settings_audit.html", context)
