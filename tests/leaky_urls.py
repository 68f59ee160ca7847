"""A URL configuration with one public page that reads before it checks, to show that
tests/test_public_pages.py catches it. Only tests use it."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from incidents.models import Incident
from servicedesk import urls as desk_urls
from tenancy.decorators import tenant_public


@tenant_public
def leaky(request, tenant_slug: str, number: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.filter(tenant__slug=tenant_slug), number=number)
    return HttpResponse(f"<h1>{incident.reference}</h1>")


@tenant_public
def leaky_token(request, tenant_slug: str, token: str) -> HttpResponse:
    return HttpResponse(status=404)


# First, so the walk meets it before the desk's own pages, which follow for the 404 page's links.
urlpatterns = [
    path("t/<slug:tenant_slug>/leak/<int:number>/", leaky, name="leaky"),
    *desk_urls.urlpatterns,
]
