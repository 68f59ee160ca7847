from django.urls import path

from tenancy import settings_apikeys, settings_views

urlpatterns = [
    path("", settings_views.settings_home, name="settings-home"),
    path("api-keys/", settings_apikeys.api_keys, name="settings-api-keys"),
    path(
        "api-keys/<int:pk>/revoke/",
        settings_apikeys.api_key_revoke_view,
        name="settings-api-key-revoke",
    ),
]
