"""escalation's pages under /t/<slug>/: a staff member's in-app notifications and mail choices,
an incident's SLA clocks and alerts, and the signed acknowledge link of an alert email."""

from django.urls import include, path

from escalation.views import notifications, preferences, sla

notification_patterns = [
    path("", notifications.notification_list, name="notifications-list"),
    path("bell/", notifications.bell, name="notifications-bell"),
    path("read-all/", notifications.notification_read_all, name="notifications-read-all"),
    path("mail/", preferences.mail_preferences, name="notifications-preferences"),
    path("<int:pk>/open/", notifications.notification_open, name="notifications-open"),
    path("<int:pk>/read/", notifications.notification_read, name="notifications-read"),
]

sla_patterns = [
    path("incidents/<int:number>/", sla.incident_sla, name="escalation-incident-sla"),
    path("incidents/<int:number>/panel/", sla.clock_panel, name="escalation-clock-panel"),
    path("alerts/<int:pk>/ack/", sla.alert_ack, name="escalation-alert-ack"),
    path("ack/<str:token>/", sla.alert_ack_link, name="escalation-alert-ack-link"),
]

urlpatterns = [
    path("notifications/", include(notification_patterns)),
    path("sla/", include(sla_patterns)),
]
