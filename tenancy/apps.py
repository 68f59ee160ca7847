from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy and people"

    def ready(self) -> None:
        # Django's and axes' sign-in signals write the audit log (tenancy/signin_audit.py).
        from tenancy import signin_audit

        signin_audit.connect()
