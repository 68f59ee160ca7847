from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"

    def ready(self) -> None:
        from desk import personal_data  # models are ready only now

        # What desk holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
