from django.apps import AppConfig


class MailConfig(AppConfig):
    """Email in: intake addresses, the stored raw messages and their processing into incidents
    and comments; the threading of the desk's own mails (used by escalation's email channel)."""

    name = "mail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mail import personal_data  # models are ready only now

        # What mail holds about a person: its export and erasure (tenancy/personal_data.py).
        personal_data.register()
