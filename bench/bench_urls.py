"""The desk's URLs plus one bare DRF endpoint for the API benchmark's baseline: the same
middleware, authentication, scopes and rate limiter, and one plain INSERT."""

from django.db import connection
from django.urls import path
from rest_framework.response import Response

from servicedesk.urls import urlpatterns as desk_urlpatterns
from tenancy.api.views import TenantAPIView


class BareInsertView(TenantAPIView):
    def post(self, request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_row (tenant_id, body) VALUES (%s, %s)",
                [self.tenant.pk, str(request.data.get("title", ""))[:200]],
            )
        return Response({"ok": True}, status=201)


urlpatterns = [path("bench/bare/", BareInsertView.as_view()), *desk_urlpatterns]
