from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from knowledge import personal_data  # models are ready only now

        # What knowledge holds about a person (tenancy/personal_data.py).
        personal_data.register()
