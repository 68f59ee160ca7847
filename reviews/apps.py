from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from reviews import personal_data  # models are ready only now

        # What reviews holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
