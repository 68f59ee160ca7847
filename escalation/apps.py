from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self) -> None:
        from escalation import personal_data, receivers  # models are ready only now

        receivers.connect()
        personal_data.register()  # what escalation holds about a person
