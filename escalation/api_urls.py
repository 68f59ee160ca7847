"""/api/v1/ routes of the SLA configuration (escalation/api_sla.py)."""

from django.urls import path

from escalation import api_sla as views

urlpatterns = [
    path("sla/calendars/", views.CalendarListView.as_view(), name="api-sla-calendars"),
    path("sla/calendars/<int:pk>/", views.CalendarDetailView.as_view(), name="api-sla-calendar"),
    path("sla/policies/", views.SlaPolicyListView.as_view(), name="api-sla-policies"),
    path(
        "sla/policies/<slug:priority>/",
        views.SlaPolicyDetailView.as_view(),
        name="api-sla-policy",
    ),
    path(
        "escalation-policies/",
        views.EscalationPolicyListView.as_view(),
        name="api-escalation-policies",
    ),
    path(
        "escalation-policies/<int:pk>/",
        views.EscalationPolicyDetailView.as_view(),
        name="api-escalation-policy",
    ),
]
