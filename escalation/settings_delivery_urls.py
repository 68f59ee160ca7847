"""Under /t/<slug>/settings/: webhook endpoints and the notifications dead letter."""

from django.urls import path

from escalation import settings_webhooks as webhooks
from escalation import views

urlpatterns = [
    path("webhooks/", webhooks.webhook_list, name="settings-webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="settings-webhooks-create"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="settings-webhooks-detail"),
    path("webhooks/<int:pk>/toggle/", webhooks.webhook_toggle, name="settings-webhooks-toggle"),
    path("webhooks/<int:pk>/ping/", webhooks.webhook_ping, name="settings-webhooks-ping"),
    path("webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="settings-webhooks-rotate"),
    path("notifications/dead/", views.dead_list, name="settings-notifications-dead"),
    path(
        "notifications/dead/<int:pk>/retry/", views.dead_retry, name="settings-notifications-retry"
    ),
]
