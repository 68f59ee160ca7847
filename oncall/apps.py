from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On call"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from oncall import personal_data  # models are ready only now

        # What on call holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
