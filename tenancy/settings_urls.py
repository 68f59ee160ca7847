from django.urls import path

from tenancy import settings_views

urlpatterns = [
    path("", settings_views.settings_home, name="settings-home"),
]
