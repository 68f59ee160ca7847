from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        from portal import personal_data  # models are ready only now

        # What portal holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
