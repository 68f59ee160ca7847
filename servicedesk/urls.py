"""The site's URLs: each app's pages, settings and API included once, here.

Under /t/<tenant-slug>/ each app adds its pages (urls.py) and its tenant settings
(settings_urls.py, under settings/); under /api/v1/ its REST API (api_urls.py).
"""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from servicedesk import health, metrics
from tenancy.urls import tenant_urlpatterns

tenant_patterns: list[URLPattern | URLResolver] = [
    *tenant_urlpatterns,
    path("settings/", include("tenancy.settings_urls")),
    path("settings/", include("incidents.settings_urls")),
    path("settings/", include("mail.settings_urls")),
    path("settings/", include("escalation.settings_urls")),
    path("settings/", include("imports.settings_urls")),
    path("settings/", include("sso.settings_urls")),
    path("portal/", include("portal.urls")),
    path("desk/", include("desk.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("problems/", include("problems.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("reviews/", include("reviews.urls")),
    path("oncall/", include("oncall.urls")),
    path("", include("escalation.urls")),
]

api_patterns = [
    path("", include("tenancy.api_urls")),
    path("", include("sso.api_urls")),
    path("", include("incidents.api_urls")),
    path("", include("mail.api_urls")),
    path("", include("escalation.api_urls")),
    path("", include("problems.api_urls")),
    path("", include("knowledge.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("oncall.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    # Before tenancy's: sso's log-in and password-reset pages take over those paths and names.
    path("", include("sso.urls")),
    path("", include("tenancy.urls")),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "servicedesk.errors.not_found"
handler500 = "servicedesk.errors.server_failure"
