from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from escalation import api as webhooks_api

urlpatterns = [
    path("", include("incidents.api_urls")),
    path("", include("escalation.api_urls")),
    path("webhooks/", webhooks_api.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhooks_api.WebhookDetailView.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/deliveries/",
        webhooks_api.WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        webhooks_api.WebhookRedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
