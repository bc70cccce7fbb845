from django.apps import AppConfig


class CasedeskConfig(AppConfig):
    name = "casedesk"
    verbose_name = "Cases"
