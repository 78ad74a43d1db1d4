from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and registrations"

    def ready(self) -> None:
        from . import sla_handlers  # noqa: F401  (registers the registration clock's warn/breach handlers)
