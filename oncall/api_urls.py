"""The on-call API, under /api/v1/."""

from django.urls import path

from oncall import api

urlpatterns = [
    path("oncall/schedules/", api.ScheduleListView.as_view(), name="api-oncall-schedule-list"),
    path(
        "oncall/schedules/<str:pk>/on-call/",
        api.OnCallView.as_view(),
        name="api-oncall-schedule-on-call",
    ),
]
