from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.models import Incident
from incidents.models.incident import OPEN_STATES
from tenancy.decorators import staff_required


@staff_required
def queue(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    incidents = (
        Incident.objects.for_tenant(request.tenant)
        .filter(state__in=OPEN_STATES)
        .select_related("priority")
        .order_by("priority_rank", "reported_at", "id")[:50]
    )
    return render(request, "incidents/queue.html", {"incidents": incidents})
