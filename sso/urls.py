"""sso's pages outside any tenant: the log-in and password-reset pages (which take over
tenancy's, same paths and names: included before tenancy.urls) and the one callback."""

from django.urls import path

from sso import views

urlpatterns = [
    path("login/", views.SsoLoginView.as_view(), name="login"),
    path("password-reset/", views.SsoPasswordResetView.as_view(), name="password_reset"),
    path("sso/callback/", views.callback, name="sso-callback"),
]
