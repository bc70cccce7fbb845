from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "inbound"
    verbose_name = "Email in"

    def ready(self) -> None:
        from inbound import drop  # noqa: F401  (connects the provider webhook's receiver)
