"""/t/<slug>/notifications/: a staff member's in-app notifications."""

from django.urls import path

from escalation import views

urlpatterns = [
    path("", views.notification_list, name="notifications-list"),
    path("bell/", views.bell, name="notifications-bell"),
    path("read-all/", views.notification_read_all, name="notifications-read-all"),
    path("<int:pk>/open/", views.notification_open, name="notifications-open"),
    path("<int:pk>/read/", views.notification_read, name="notifications-read"),
]
