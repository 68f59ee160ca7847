"""sso's /api/v1/ routes."""

from django.urls import path

from sso import api

urlpatterns = [
    path("sso/", api.SsoConfigView.as_view(), name="api-sso"),
    path("sso/test/", api.SsoTestView.as_view(), name="api-sso-test"),
]
