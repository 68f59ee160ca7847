from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy and people"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from tenancy import rls, signin_audit
        from tenancy.account import tracking
        from tenancy.personal_data_services import register_tenancy

        # Django's and axes' sign-in signals write the audit log (tenancy/signin_audit.py).
        signin_audit.connect()
        # Every PostgreSQL connection runs its statements behind the tenant wall.
        connection_created.connect(rls.install, dispatch_uid="tenancy.rls.install")
        # Each signed-in session's row for the account page (tenancy/account/).
        tracking.connect()
        # What tenancy itself holds about a person (tenancy/personal_data.py).
        register_tenancy()
