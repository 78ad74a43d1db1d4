from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and registrations"
    # After the sign-ups (accounts.demo's own phase): what the approved users did with their accounts.
    demo_phases = ["accounts.demo_activity.activity_phase"]

    def ready(self) -> None:
        from saypro.context_processors import NavEntry, nav_register
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
        # Administrators' view of suspicious activity (new devices, failure bursts, credential stuffing).
        nav_register(
            NavEntry("Account security", "admin:accounts_suspiciousevent_changelist", "accounts.view_suspiciousevent")
        )
