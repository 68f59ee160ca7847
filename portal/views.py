from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.models import Incident


def _mine(request: HttpRequest):
    return Incident.objects.for_tenant(request.tenant).filter(reporter=request.user)


def my_incidents(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    incidents = _mine(request).select_related("priority").order_by("-updated_at")[:50]
    return render(request, "portal/my_incidents.html", {"incidents": incidents})


def report(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "portal/report.html", {})


def incident_detail(request: HttpRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = _mine(request).filter(number=number).first()
    if incident is None:
        raise Http404("No such incident.")
    return render(request, "portal/incident_detail.html", {"incident": incident})
