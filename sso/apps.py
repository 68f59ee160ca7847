from django.apps import AppConfig


class SsoAppConfig(AppConfig):
    name = "sso"
    label = "sso"
    verbose_name = "Single sign-on (OpenID Connect)"
    default_auto_field = "django.db.models.BigAutoField"
