from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.models import Incident
from incidents.models.incident import OPEN_STATES
from tenancy.decorators import manager_required


@manager_required
def home(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    open_now = Incident.objects.for_tenant(request.tenant).filter(state__in=OPEN_STATES).count()
    return render(request, "dashboards/home.html", {"open_now": open_now})
