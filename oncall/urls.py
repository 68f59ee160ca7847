"""The on-call pages, under /t/<slug>/oncall/."""

from django.urls import path

from oncall import views

urlpatterns = [
    path("", views.schedule_list, name="oncall-schedule-list"),
    path("<int:pk>/", views.schedule_detail, name="oncall-schedule-detail"),
    path("<int:pk>/edit/", views.schedule_edit, name="oncall-schedule-edit"),
    path("<int:pk>/overrides/", views.override_add, name="oncall-override-add"),
    path(
        "<int:pk>/overrides/<int:override_pk>/remove/",
        views.override_remove,
        name="oncall-override-remove",
    ),
    path("<int:pk>/layers/", views.layer_add, name="oncall-layer-add"),
    path("<int:pk>/layers/<int:layer_pk>/remove/", views.layer_remove, name="oncall-layer-remove"),
    path("ical/<str:token>.ics", views.ical, name="oncall-ical-feed"),
]
