"""escalation's /api/v1/ routes: an incident's SLA clocks and alerts, the SLA configuration,
and webhook endpoints with their deliveries."""

from django.urls import path

from escalation.api import incident_sla, sla_config, webhooks

N = "<str:number>"

urlpatterns = [
    path(f"incidents/{N}/sla/", incident_sla.IncidentSlaView.as_view(), name="api-incident-sla"),
    path(
        f"incidents/{N}/alerts/",
        incident_sla.IncidentAlertListView.as_view(),
        name="api-incident-alerts",
    ),
    path(
        f"incidents/{N}/alerts/<int:alert_id>/acknowledge/",
        incident_sla.IncidentAlertAcknowledgeView.as_view(),
        name="api-incident-alert-acknowledge",
    ),
    path("sla/calendars/", sla_config.CalendarListView.as_view(), name="api-sla-calendars"),
    path(
        "sla/calendars/<int:pk>/", sla_config.CalendarDetailView.as_view(), name="api-sla-calendar"
    ),
    path("sla/policies/", sla_config.SlaPolicyListView.as_view(), name="api-sla-policies"),
    path(
        "sla/policies/<slug:priority>/",
        sla_config.SlaPolicyDetailView.as_view(),
        name="api-sla-policy",
    ),
    path(
        "escalation-policies/",
        sla_config.EscalationPolicyListView.as_view(),
        name="api-escalation-policies",
    ),
    path(
        "escalation-policies/<int:pk>/",
        sla_config.EscalationPolicyDetailView.as_view(),
        name="api-escalation-policy",
    ),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetailView.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/deliveries/",
        webhooks.WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        webhooks.WebhookRedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
]
