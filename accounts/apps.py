from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and departments"

    def ready(self) -> None:
        from accounts import second_factor

        # At sign-in the session learns whether a second factor is to be asked for.
        user_logged_in.connect(second_factor.remember_at_sign_in, dispatch_uid="second-factor")
