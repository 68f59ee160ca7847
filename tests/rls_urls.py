"""Test-only pages that forget the tenant filter, to show the second wall (tenancy/rls.py)
holds alone. Only tests/tenancy/test_rls.py uses them."""

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

from incidents.models import Incident
from servicedesk import urls as desk_urls


def every_title(request, tenant_slug: str) -> JsonResponse:
    # No .for_tenant(): the query a tired developer writes.
    return JsonResponse({"titles": sorted(Incident.objects.values_list("title", flat=True))})


def every_title_streamed(request, tenant_slug: str) -> StreamingHttpResponse:
    rows = (f"{title}\n" for title in Incident.objects.values_list("title", flat=True))
    return StreamingHttpResponse(rows, content_type="text/plain")


def move_to(request, tenant_slug: str, pk: int) -> HttpResponse:
    """Rewrites a row of this tenant as another tenant's: the policy's check refuses it."""
    other = int(request.GET["tenant"])
    moved = Incident.objects.filter(pk=pk).update(tenant_id=other)
    return HttpResponse(str(moved))


urlpatterns = [
    path("t/<slug:tenant_slug>/rls/titles/", every_title),
    path("t/<slug:tenant_slug>/rls/streamed/", every_title_streamed),
    path("t/<slug:tenant_slug>/rls/move/<int:pk>/", move_to),
    *desk_urls.urlpatterns,
]
