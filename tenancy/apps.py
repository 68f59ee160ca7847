from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy and people"

    def ready(self) -> None:
        # Django's and axes' sign-in signals write the audit log (tenancy/signin_audit.py).
        from django.db.backends.signals import connection_created

        from tenancy import rls, signin_audit

        signin_audit.connect()
        # Every PostgreSQL connection runs its statements behind the tenant wall.
        connection_created.connect(rls.install, dispatch_uid="tenancy.rls.install")
