from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and registrations"
    # After the sign-ups (accounts.demo's own phase): what the approved users did with their accounts.
    demo_phases = ["accounts.demo_activity.activity_phase"]

    def ready(self) -> None:
        from saypro.sla.promises import Promise, promise_register

        from . import sla_handlers  # noqa: F401  (registers the registration clock's warn/breach handlers)

        promise_register(
            Promise(
                metric="registration.approval",
                title="Registrations approved within 48 h",
                deadline_text="decided within 48 h",
                target_rate=1.0,
                queue_permission="accounts.review_registration",
                items_url_name="accounts:queue",
                order=10,
            )
        )
