from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "problems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from problems import personal_data  # models are ready only now

        # What problems holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
