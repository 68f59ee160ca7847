from django.urls import path

from sso import settings_views

urlpatterns = [
    path("sso/", settings_views.sso_settings, name="settings-sso"),
    path("sso/test/", settings_views.sso_test, name="settings-sso-test"),
    path("sso/try/", settings_views.sso_try, name="settings-sso-try"),
]
