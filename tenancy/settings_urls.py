from django.urls import include, path

from tenancy import settings_views

urlpatterns = [
    path("", settings_views.settings_home, name="settings-home"),
    path("", include("escalation.settings_delivery_urls")),
]
