from django.urls import path

from escalation import sla_views as views

urlpatterns = [
    path("incidents/<int:number>/", views.incident_sla, name="escalation-incident-sla"),
    path("incidents/<int:number>/panel/", views.clock_panel, name="escalation-clock-panel"),
    path("alerts/<int:pk>/ack/", views.alert_ack, name="escalation-alert-ack"),
    path("ack/<str:token>/", views.alert_ack_link, name="escalation-alert-ack-link"),
]
