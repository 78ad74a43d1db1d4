from django.apps import AppConfig

from accounts import roles

VIEW = ["messaging.view_conversation", "messaging.view_message", "messaging.view_categorylabel"]
ANSWER = [
    *VIEW,
    "messaging.reply_conversation",
    "messaging.start_conversation",
    "messaging.assign_conversation",
    "messaging.escalate_conversation",
]


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages between users and admins"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "conversation.assign": "assigned",
        "conversation.listing_notice": "sent the seller a listing notice",
        "conversation.categorise": "set the category",
        "conversation.claim": "claimed",
        "conversation.convert": "converted to a ticket",
        "conversation.escalate": "escalated to the Classified Office",
        "conversation.note": "added an internal note",
        "conversation.reopen": "reopened",
        "conversation.reply": "replied",
        "conversation.resolve": "resolved",
        "conversation.start": "started the conversation",
        "conversation.start_outbound": "wrote to the user",
        "conversation.transfer": "transferred",
        "conversation.user_message": "wrote",
        "message.hide": "hid the message",
        "message.restore": "restored the message",
    }

    # Support agents answer; managers and administrators see (administrators may also answer and configure);
    # moderators see threads behind policy reports, but only the support role answers users.
    role_permissions = {
        roles.SUPPORT_AGENT: ANSWER,
        roles.MODERATOR: VIEW,
        roles.MANAGER: VIEW,
        roles.ADMINISTRATOR: [
            *ANSWER,
            "messaging.view_teammembership",
            "messaging.add_teammembership",
            "messaging.delete_teammembership",
            "messaging.view_resolutionpolicy",
            "messaging.change_resolutionpolicy",
        ],
    }

    def ready(self) -> None:
        from . import figures

        figures.register()
        from accounts.routing import load_register
        from saypro.sla.promises import Promise, promise_register

        from . import (
            integrations,
            retention,
            selectors,
            sla_handlers,  # noqa: F401  (registers the conversation clocks' warn/breach handlers)
        )

        retention.register()

        promise_register(
            Promise(
                metric="message.first_response",
                title="Conversations first answered within 24 h",
                deadline_text="answered within 24 h",
                target_key="sla.message.first_response",
                queue_permission="messaging.view_conversation",
                items_url_name="messaging:home",
                # Only conversations not yet answered: the inbox's larger "Unresolved" also counts answered ones.
                open_label="Awaiting a first answer",
                item_url_name="messaging:thread",
                describe_items=selectors.conversation_summaries,
                figure_keys=("messaging.first_response_24h", "messaging.volume"),
                order=20,
                decision_actions=("conversation.reply", "conversation.resolve", "conversation.convert"),
                staff_role=roles.SUPPORT_AGENT,
            )
        )
        load_register("messaging", selectors.open_conversations_per_agent)
        integrations.moderation_register()

        from saypro.ml.services import Task, task_register

        from . import classification

        task_register(
            Task(classification.MODEL_NAME, retrain=classification.rebuild, decisions=classification.decisions_since)
        )

        from saypro.outbox.followups import followup_register

        from . import tasks

        followup_register(
            "messaging.triage",
            pending=selectors.conversations_triage_overdue,
            dispatch=lambda item: tasks.triage_conversation.delay(int(item)),
            description="conversations waiting for categorisation and routing",
        )
