from django.contrib.auth import views as auth_views
from django.urls import path

from tenancy import views
from tenancy.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="tenancy/login.html", authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

tenant_urlpatterns = [
    path("", views.tenant_home, name="tenant-home"),
]
