from django.urls import path

from escalation import settings_views as views

urlpatterns = [
    path("calendars/", views.calendar_list, name="escalation-calendar-list"),
    path("calendars/new/", views.calendar_edit, name="escalation-calendar-new"),
    path("calendars/<int:pk>/", views.calendar_edit, name="escalation-calendar-edit"),
    path("policies/", views.sla_policy_list, name="escalation-policy-list"),
    path("policies/<int:pk>/", views.sla_policy_edit, name="escalation-policy-edit"),
    path("escalation/", views.escalation_list, name="escalation-escalation-list"),
    path("escalation/new/", views.escalation_edit, name="escalation-escalation-new"),
    path("escalation/<int:pk>/", views.escalation_edit, name="escalation-escalation-edit"),
]
