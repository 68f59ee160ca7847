"""Two-factor URLs: the person's pages (included at account/two-factor/ by tenancy/urls.py) and
the sign-in's second step (at login/verify/)."""

from django.urls import path

from tenancy.mfa import views, webauthn

urlpatterns = [
    path("", views.home, name="mfa-home"),
    path("authenticator/", views.authenticator_add, name="mfa-authenticator-add"),
    path("passkey/", views.passkey_add, name="mfa-passkey-add"),
    path("passkey/added/", views.passkey_added, name="mfa-passkey-added"),
    path("passkey/begin/", webauthn.PasskeyRegisterBegin.as_view(), name="mfa-passkey-begin"),
    path(
        "passkey/complete/",
        webauthn.PasskeyRegisterComplete.as_view(),
        name="mfa-passkey-complete",
    ),
    path(
        "<str:kind>/<int:pk>/remove/",
        views.factor_remove,
        name="mfa-factor-remove",
    ),
    path("recovery-codes/", views.recovery_codes, name="mfa-recovery-codes"),
    path(
        "recovery-codes/new/",
        views.recovery_codes_generate,
        name="mfa-recovery-codes-generate",
    ),
]

signin_urlpatterns = [
    path("", views.verify, name="login-verify"),
    path("passkey/begin/", webauthn.PasskeySignInBegin.as_view(), name="login-passkey-begin"),
    path(
        "passkey/complete/",
        webauthn.PasskeySignInComplete.as_view(),
        name="login-passkey-complete",
    ),
]
