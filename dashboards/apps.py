from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"

    def ready(self) -> None:
        from dashboards import personal_data  # models are ready only now

        # What dashboards hold about a person (tenancy/personal_data.py).
        personal_data.register()
