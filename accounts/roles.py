"""Staff roles: Django groups and the permissions each one carries.

The grants below cover accounts, the SLA kernel, the audit trail and the text classifiers. Every other app lists
its own grants on its AppConfig as `role_permissions = {ROLE: ["app.codename", ...]}`, so an app brings its
permissions with it.
`sync_roles` (run by each app's data migration and by `manage.py sync_roles`) creates missing groups and grants
what is listed. It never removes a permission an administrator added by hand.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

REVIEWER = "Registration reviewer"
SUPPORT_AGENT = "Support agent"
MODERATOR = "Moderator"
MANAGER = "Manager"
ADMINISTRATOR = "Administrator"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    REVIEWER: [
        "accounts.review_registration",
        "accounts.view_registration",
        "accounts.view_blockrule",
        "accounts.add_blockrule",
        "accounts.change_blockrule",
        "accounts.manage_block_rules",
    ],
    SUPPORT_AGENT: [],
    # Moderators suspend and ban users over what they post, and look at the account behind a report.
    MODERATOR: ["accounts.manage_account_status", "accounts.view_account_timeline"],
    MANAGER: [
        "sla.view_compliance",
        "accounts.view_registration",
        "accounts.view_feedback",
    ],
    ADMINISTRATOR: [
        # The classifiers' pages: version, training data, figures, thresholds, decisions (read-only).
        "ml.view_textmodel",
        "ml.view_validationset",
        "accounts.review_registration",
        "accounts.view_registration",
        "accounts.view_blockrule",
        "accounts.add_blockrule",
        "accounts.change_blockrule",
        "accounts.delete_blockrule",
        "accounts.manage_block_rules",
        "accounts.view_user",
        "accounts.change_user",
        "accounts.manage_account_status",
        "accounts.view_account_timeline",
        "accounts.unlock_account",
        "accounts.process_deletion",
        "accounts.view_accountevent",
        "accounts.view_suspiciousevent",
        "accounts.view_lockout",
        "accounts.view_accountsession",
        "accounts.view_deletionrequest",
        "accounts.view_feedback",
        "accounts.view_passwordreset",
        "accounts.view_reviewguidelines",
        "accounts.change_reviewguidelines",
        # Shifts: who works when, in which languages and regions.
        "accounts.view_agentprofile",
        "accounts.add_agentprofile",
        "accounts.change_agentprofile",
        "accounts.delete_agentprofile",
        # Newly released features whose use the reports follow.
        "accounts.view_featurerelease",
        "accounts.add_featurerelease",
        "accounts.change_featurerelease",
        "sla.view_compliance",
        "sla.view_clock",
        "sla.view_calendar",
        "sla.add_calendar",
        "sla.change_calendar",
        "sla.view_policy",
        "sla.change_policy",
        "sla.view_businesshours",
        "sla.add_businesshours",
        "sla.change_businesshours",
        "sla.delete_businesshours",
        "sla.view_holiday",
        "sla.add_holiday",
        "sla.change_holiday",
        "sla.delete_holiday",
        "audit.view_auditentry",
        # How long each kind of personal data is kept.
        "retention.view_retentionpolicy",
        "retention.change_retentionpolicy",
    ],
}
ROLES = tuple(ROLE_PERMISSIONS)


def role_permissions() -> dict[str, list[str]]:
    """The grants above plus those every installed app lists on its AppConfig."""
    merged = {role: list(codes) for role, codes in ROLE_PERMISSIONS.items()}
    # The project's registry, even inside a migration: the grants are code, not historical state.
    for app_config in global_apps.get_app_configs():
        for role, codes in getattr(app_config, "role_permissions", {}).items():
            if role not in merged:
                raise ValueError(f"{app_config.name} grants permissions to the unknown role {role!r}.")
            merged[role].extend(code for code in codes if code not in merged[role])
    return merged


def sync_roles(apps: Any = global_apps) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after all migrations ran; a data migration needs them now.
    for app_config in apps.get_app_configs():
        # Restored afterwards: the project's registry keeps its real models module (post_migrate needs it).
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    # One query for every permission rather than one per grant: this runs in every data migration that grants.
    by_code: dict[str, list[Any]] = {}
    for permission in Permission.objects.select_related("content_type"):
        by_code.setdefault(f"{permission.content_type.app_label}.{permission.codename}", []).append(permission)
    for role, codes in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(permission for code in codes for permission in by_code.get(code, ())))
