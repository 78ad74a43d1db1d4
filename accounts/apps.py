from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and registrations"
    # After the sign-ups (accounts.demo's own phase): what the approved users did with their accounts.
    demo_phases = ["accounts.demo_activity.activity_phase"]

    def ready(self) -> None:
        from saypro.context_processors import NavEntry, nav_register
        from saypro.sla.promises import RATE, SECONDS, ExtraFigures, Figure, Promise, promise_register

        from . import sla_handlers  # noqa: F401  (registers the registration clock's warn/breach handlers)
        from .selectors import registration_decision_figures

        promise_register(
            Promise(
                metric="registration.approval",
                title="Registrations approved within 48 h",
                deadline_text="decided within 48 h",
                target_rate=1.0,
                queue_permission="accounts.review_registration",
                items_url_name="accounts:queue",
                item_url_name="accounts:registration",
                extra=ExtraFigures(
                    read=registration_decision_figures,
                    figures=(
                        Figure(
                            "decision-median",
                            "Decision, median",
                            lambda t: t["decision_time"].median,
                            SECONDS,
                            note="this quarter",
                        ),
                        Figure(
                            "decision-p90",
                            "Decision, p90",
                            lambda t: t["decision_time"].p90,
                            SECONDS,
                            note="this quarter",
                        ),
                        Figure(
                            "auto-approval",
                            "Auto-approved",
                            lambda t: t["auto_approval_rate"],
                            RATE,
                            note="of this quarter's approvals",
                        ),
                    ),
                ),
                order=10,
            )
        )
        # Work handed to a task after commit that the reconciliation sweep finds again if the task was lost.
        from saypro.outbox.followups import followup_register

        from . import selectors, tasks

        followup_register(
            "accounts.screening",
            pending=selectors.registrations_screening_overdue,
            dispatch=lambda item: tasks.screen_registration.delay(int(item)),
            description="registrations still waiting for screening",
        )
        followup_register(
            "accounts.acknowledgement",
            pending=selectors.registrations_unacknowledged,
            dispatch=lambda item: tasks.send_registration_acknowledgement.delay(int(item)),
            description="submitted registrations without the acknowledgement e-mail",
        )
        # Administrators' view of suspicious activity (new devices, failure bursts, credential stuffing).
        nav_register(
            NavEntry("Account security", "admin:accounts_suspiciousevent_changelist", "accounts.view_suspiciousevent")
        )
