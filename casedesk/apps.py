from django.apps import AppConfig


class CasedeskConfig(AppConfig):
    name = "casedesk"
    verbose_name = "Cases"

    def ready(self) -> None:
        # Hand-offs register how they are withdrawn when their case closes.
        from casedesk import handoffs  # noqa: F401
