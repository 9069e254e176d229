from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and programs"

    def ready(self):
        from .auth import receivers  # noqa: F401  (connects the sign-in signals)
