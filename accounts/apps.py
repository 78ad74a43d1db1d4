from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and registrations"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "account.deactivate": "deactivated the account",
        "account.delete": "deleted the account",
        "account.deletion_cancel": "cancelled the deletion request",
        "account.deletion_request": "requested deletion of the account",
        "account.email_change": "changed the e-mail address",
        "account.password_change": "changed the password",
        "account.password_reset": "reset the password",
        "account.reactivate": "reactivated the account",
        "account.two_factor_disable": "turned off two-factor sign-in",
        "account.two_factor_enable": "turned on two-factor sign-in",
        "account.unlock": "released the sign-in lockout",
        "account.suspended": "suspended the account",
        "account.banned": "banned the account",
        "account.reinstated": "reinstated the account",
        "blockrule.apply": "applied the block rule",
        "blockrule.create": "created the block rule",
        "registration.auto_approve": "approved automatically",
        "registration.approve": "approved",
        "registration.reject": "rejected",
        "registration.claim": "claimed",
        "registration.release": "released the claim",
        "registration.email_verified": "confirmed the e-mail address",
        "registration.phone_verified": "confirmed the phone number",
        "registration.id_verified": "checked the ID document",
        "registration.escalate": "escalated",
        "registration.escalate_to_admins": "escalated to the administrators",
        "review_guidelines.change": "changed the review guidelines",
        "registration.provide_info": "answered the request for information",
        "registration.request_info": "asked for more information",
        "registration.undo": "undid the decision",
        "registration.screen": "screened",
        "registration.start": "started the sign-up",
        "registration.submit": "submitted for review",
        "registration.verification_unavailable": "could not verify (service unavailable)",
        "staff.created": "created the staff login",
        "staff.updated": "updated the staff login",
    }

    def ready(self) -> None:
        from . import backends, figures

        backends.connect()

        figures.register()
        _name_two_factor_devices()
        from saypro.context_processors import NavEntry, nav_register
        from saypro.sla.promises import Promise, promise_register

        from . import (
            retention,
            roles,
            sla_handlers,  # noqa: F401  (registers the registration clock's warn/breach handlers)
        )

        retention.register()
        from .selectors import registration_summaries

        promise_register(
            Promise(
                metric="registration.approval",
                title="Registrations decided within 48 h of review time",
                deadline_text="decided within 48 h of review time",
                target_key="sla.registration.approval",
                queue_permission="accounts.review_registration",
                items_url_name="accounts:queue",
                item_url_name="accounts:registration",
                item_permission="accounts.view_registration",
                describe_items=registration_summaries,
                figure_keys=("registrations.approved_48h", "registrations.team_time_48h", "registrations.rejected"),
                order=10,
                decision_actions=("registration.approve", "registration.reject", "registration.request_info"),
                staff_role=roles.REVIEWER,
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
        # Who turned a notification off: the mail and SMS senders ask before every non-essential message.
        from saypro.notifications import opt_outs_register

        opt_outs_register(selectors.notification_opt_outs)
        # Administrators' view of suspicious activity (new devices, failure bursts, credential stuffing).
        nav_register(
            NavEntry("Account security", "admin:accounts_suspiciousevent_changelist", "accounts.view_suspiciousevent")
        )


def _name_two_factor_devices() -> None:
    """django-otp's admin says "TOTP devices" and "Static devices" under "OTP_TOTP": administrators read what
    the sign-in pages call them. Only the names shown change (the migrations' options stay django-otp's own)."""
    from django.apps import apps

    names = {
        "otp_totp": ("Two-factor sign-in: authenticator apps", "authenticator app", "authenticator apps"),
        "otp_static": ("Two-factor sign-in: recovery codes", "set of recovery codes", "sets of recovery codes"),
    }
    for label, (app_name, singular, plural) in names.items():
        if not apps.is_installed(f"django_otp.plugins.{label}"):
            continue
        config = apps.get_app_config(label)
        config.verbose_name = app_name
        for model in config.get_models():
            if model.__name__.endswith("Device"):
                model._meta.verbose_name = singular
                model._meta.verbose_name_plural = plural
