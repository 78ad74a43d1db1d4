from django.apps import AppConfig

from accounts import roles

AGENT_GRANTS = [
    "support.view_ticket",
    "support.add_ticket",
    "support.change_ticket",
    "support.reply_ticket",
    "support.view_macro",
    "support.view_department",
    "support.view_knownissue",
    "support.add_knownissue",
    "support.change_knownissue",
    "support.view_article",
]
FIGURES = ["support.view_support_figures", "sla.view_compliance"]
# The comments behind a topic are personal data: managers and administrators read them, agents see counts.
TOPIC_READERS = ["support.read_topic_comments"]


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support tickets and help center"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "chat.convert": "ended the chat as a ticket",
        "chat.transfer": "transferred the chat",
        "ticket.assign": "changed the assignee",
        "ticket.cc": "changed the CC list",
        "ticket.create": "opened the ticket",
        "ticket.department": "moved it to another department",
        "ticket.known_issue": "linked a known issue",
        "ticket.merge": "merged it into another ticket",
        "ticket.merged_in": "merged another ticket into this one",
        "ticket.priority": "changed the priority",
        "ticket.reopen": "reopened it by answering",
        "ticket.note": "added an internal note",
        "ticket.reply": "replied",
        "ticket.requester_reply": "replied (requester)",
        "ticket.status": "changed the status",
        "ticket.triage": "triaged",
        "knownissue.save": "saved the known issue",
        "survey.follow_up": "asked for a follow-up",
        "survey.follow_up_done": "followed up",
    }

    role_permissions = {
        roles.SUPPORT_AGENT: AGENT_GRANTS,
        roles.MANAGER: [
            "support.view_ticket",
            *FIGURES,
            *TOPIC_READERS,
            "support.handle_followup",
            "support.view_surveyfollowup",
            "support.view_macro",
            "support.add_macro",
            "support.change_macro",
            "support.view_article",
            "support.add_article",
            "support.change_article",
            "support.view_knownissue",
        ],
        roles.ADMINISTRATOR: [
            *AGENT_GRANTS,
            *FIGURES,
            *TOPIC_READERS,
            "support.handle_followup",
            *(
                f"support.{action}_{model}"
                for model in (
                    "department",
                    "supportpolicy",
                    "supporttarget",
                    "triagerule",
                    "macro",
                    "article",
                    "articlecategory",
                    "knownissue",
                    "surveyfollowup",
                )
                for action in ("view", "add", "change", "delete")
            ),
            "support.view_survey",
            "support.view_pointsentry",
        ],
    }

    def ready(self) -> None:
        from . import figures, topic_figures

        figures.register()
        topic_figures.register()
        from accounts.routing import load_register
        from saypro.sla.promises import Promise, promise_register

        from . import (
            retention,
            selectors,
            sla_handlers,  # noqa: F401  (registers the ticket clocks' warn/breach handlers)
        )

        retention.register()
        from .selectors import open_load

        promise_register(
            Promise(
                metric="ticket.resolution",
                title="Tickets resolved within their priority's target (8 / 16 / 24 h)",
                deadline_text="resolved within the priority's target",
                target_key="sla.ticket.resolution",
                queue_permission="support.view_ticket",
                items_url_name="support:home",
                item_url_name="support:ticket",
                describe_items=selectors.ticket_summaries,
                figure_keys=("support.resolved_24h", "support.first_response_hours"),
                open_label="Not yet resolved",
                order=30,
                # A status change is almost always a ticket solved; merging one away also ends it.
                decision_actions=("ticket.status", "ticket.merge"),
                staff_role=roles.SUPPORT_AGENT,
            )
        )
        load_register("support.tickets", open_load)

        from saypro.ml.services import Task, task_register

        from . import triage
        from .services import TRIAGE_MODEL

        task_register(Task(TRIAGE_MODEL, retrain=triage.triage_model_rebuild, decisions=triage.decisions_since))

        from saypro.outbox.followups import followup_register

        from . import tasks

        followup_register(
            "support.triage",
            pending=selectors.tickets_triage_overdue,
            dispatch=lambda item: tasks.triage_ticket.delay(int(item)),
            description="open tickets never triaged (no department, not waiting in the triage view)",
        )
        followup_register(
            "support.acknowledgement",
            pending=selectors.tickets_unacknowledged,
            dispatch=lambda item: tasks.send_ticket_acknowledgement.delay(int(item)),
            description="tickets without the acknowledgement e-mail",
        )
