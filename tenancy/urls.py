from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from tenancy import auth_views as account_views
from tenancy import views
from tenancy.mfa import urls as mfa_urls

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers and feed readers ask for it at the root whatever the page's <link> says.
    path(
        "favicon.ico",
        RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.ico", permanent=True),
    ),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("login/verify/", include(mfa_urls.signin_urlpatterns)),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The person's own account: password, sessions, and their second factors.
    path("account/two-factor/", include(mfa_urls.urlpatterns)),
    path("account/", include("tenancy.account.urls")),
    path(
        "password-reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

tenant_urlpatterns = [
    path("", views.tenant_home, name="tenant-home"),
    path("signup/", views.signup, name="tenancy-signup"),
    path("signup/sent/", views.signup_sent, name="tenancy-signup-sent"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="tenancy-signup-confirm"),
    path("invitations/<str:token>/", views.invitation_accept, name="tenancy-invitation-accept"),
]
