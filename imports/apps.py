from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports of incident history"

    def ready(self) -> None:
        from imports import personal_data  # models are ready only now

        # What imports holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
