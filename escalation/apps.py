from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation"

    def ready(self) -> None:
        # Exception requests register how they are withdrawn when their case closes.
        from escalation import exceptions  # noqa: F401
