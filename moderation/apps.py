from django.apps import AppConfig

from accounts import roles


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Flags and moderation"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "appeal.file": "filed an appeal",
        "appeal.uphold": "upheld the decision on appeal",
        "appeal.reverse": "reversed the decision on appeal",
        "badge.revoke": "revoked the verified badge",
        "case.brigading": "flagged a burst of reports",
        "case.hide": "hid the content pending a decision",
        "case.open": "opened the case",
        "case.reopen": "reopened the case",
        "case.keep": "kept the content (flags dismissed)",
        "case.remove": "removed the content",
        "case.remove_warn": "removed the content and warned the author",
        "case.suspend_user": "removed the content and suspended the author",
        "case.ban_user": "removed the content and banned the author",
        "keyword.activate": "turned the keyword rule on",
        "keyword.deactivate": "turned the keyword rule off",
        "keyword.create": "created the keyword rule",
        "strike.issue": "issued a strike",
        "profile.hide": "hid the profile",
        "profile.restore": "restored the profile",
    }
    # Moderators decide; support agents neither see nor decide cases, but file an appeal for a user who writes to
    # them (a suspended account cannot sign in); managers see figures; administrators manage the detection
    # keywords and see everything.
    role_permissions = {
        roles.MODERATOR: [
            "moderation.view_case",
            "moderation.decide_case",
            "moderation.decide_appeal",
            "moderation.file_appeal",
            "moderation.view_keywordrule",
        ],
        roles.SUPPORT_AGENT: ["moderation.file_appeal"],
        roles.MANAGER: ["moderation.view_moderation_figures"],
        roles.ADMINISTRATOR: [
            "moderation.view_case",
            "moderation.file_appeal",
            "moderation.view_keywordrule",
            "moderation.add_keywordrule",
            "moderation.change_keywordrule",
            "moderation.manage_keywords",
            "moderation.view_moderation_figures",
        ],
    }

    def ready(self) -> None:
        from . import figures

        figures.register()
        from saypro.context_processors import NavEntry, nav_register
        from saypro.sla.promises import Promise, promise_register

        from . import (
            selectors,
            sla_handlers,  # noqa: F401  (registers the decision clock's warn/breach handlers)
        )

        promise_register(
            Promise(
                metric="moderation.decision",
                title="Flagged content decided within 12 h",
                deadline_text="decided within 12 h",
                target_key="sla.moderation.decision",
                queue_permission="moderation.view_case",
                items_url_name="moderation:home",
                item_url_name="moderation:case",
                describe_items=selectors.case_summaries,
                figure_keys=("moderation.decided_12h", "moderation.recurrence_rate"),
                order=40,
                decision_actions=("case.keep", "case.remove", "case.remove_warn", "case.suspend_user", "case.ban_user"),
                staff_role=roles.MODERATOR,
            )
        )
        nav_register(NavEntry("Moderation figures", "moderation:figures", "moderation.view_moderation_figures"))

        from saypro.ml.services import Task, task_register

        from . import spam

        task_register(Task(spam.MODEL_NAME, retrain=spam.spam_model_rebuild, decisions=spam.decisions_since))

        from saypro.outbox.followups import followup_register

        from . import tasks

        def detect(item: str) -> None:
            kind, _, object_id = item.rpartition(":")
            tasks.detect_content.delay(kind, int(object_id))

        followup_register(
            "moderation.detection",
            pending=selectors.content_detection_overdue,
            dispatch=detect,
            description="content versions (listings, messages, profiles) without an automatic detection",
        )
