"""escalation's tenant settings under /t/<slug>/settings/: SLA calendars, targets and
escalation policies; webhook endpoints; the notifications that could not be delivered."""

from django.urls import include, path

from escalation.views import notifications, settings_sla, settings_webhooks

sla_patterns = [
    path("calendars/", settings_sla.calendar_list, name="escalation-calendar-list"),
    path("calendars/new/", settings_sla.calendar_edit, name="escalation-calendar-new"),
    path("calendars/<int:pk>/", settings_sla.calendar_edit, name="escalation-calendar-edit"),
    path("policies/", settings_sla.sla_policy_list, name="escalation-policy-list"),
    path("policies/<int:pk>/", settings_sla.sla_policy_edit, name="escalation-policy-edit"),
    path("escalation/", settings_sla.escalation_list, name="escalation-escalation-list"),
    path("escalation/new/", settings_sla.escalation_edit, name="escalation-escalation-new"),
    path("escalation/<int:pk>/", settings_sla.escalation_edit, name="escalation-escalation-edit"),
]

webhooks = settings_webhooks
urlpatterns = [
    path("sla/", include(sla_patterns)),
    path("webhooks/", webhooks.webhook_list, name="settings-webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="settings-webhooks-create"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="settings-webhooks-detail"),
    path("webhooks/<int:pk>/toggle/", webhooks.webhook_toggle, name="settings-webhooks-toggle"),
    path("webhooks/<int:pk>/ping/", webhooks.webhook_ping, name="settings-webhooks-ping"),
    path("webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="settings-webhooks-rotate"),
    path("notifications/dead/", notifications.dead_list, name="settings-notifications-dead"),
    path(
        "notifications/dead/<int:pk>/retry/",
        notifications.dead_retry,
        name="settings-notifications-retry",
    ),
]
