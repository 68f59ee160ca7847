from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from servicedesk import health
from tenancy.urls import tenant_urlpatterns

tenant_patterns = [
    *tenant_urlpatterns,
    path("settings/", include("tenancy.settings_urls")),
    path("portal/", include("portal.urls")),
    path("desk/", include("desk.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("notifications/", include("escalation.urls")),
    path("sla/", include("escalation.sla_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("servicedesk.api_urls")),
    path("", include("tenancy.urls")),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "servicedesk.errors.not_found"
handler500 = "servicedesk.errors.server_failure"
