"""Every write to support: tickets and their transitions, triage and routing, macros, surveys, points, help center,
and the agent's live-chat actions (transfer, convert to a ticket).

Each ticket transition locks the row, guards the current state, records an audit entry and starts, pauses,
resumes, stops or re-targets the ticket's two clocks (`ticket.first_response`, `ticket.resolution`; a live chat
also its own `chat.first_response`) through the SLA kernel. E-mail, classification and assignment run after
commit in Celery tasks.

One module per entity; callers import from `support.services` as before."""

from __future__ import annotations

from support.services.base import (
    ANSWER_PERMISSION,
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    ATTACHMENTS_PER_MESSAGE,
    BODY_MAX,
    CC_MAX,
    CLIENT_LOG_MAX,
    CONTEXT_FIELD_MAX,
    SUBJECT_MAX,
    TRIAGE_MODEL,
)
from support.services.chat import (
    CLOSED,
    NO_AGENT,
    ChatAvailability,
    chat_availability,
    chat_mark_read,
    chat_open,
    chat_unavailable_event,
)
from support.services.chat_panel import (
    ChatEnded,
    ChatRefused,
    chat_convert_to_ticket,
    chat_transfer,
)
from support.services.help_center import (
    article_view,
    article_vote,
    guidance_answer,
    guidance_link_ticket,
    guidance_read,
    live_chat_status,
)
from support.services.known_issues import (
    known_issue_save,
)
from support.services.macros import (
    PLACEHOLDER,
    RenderedMacro,
    macro_context,
    macro_render,
    macro_render_checked,
)
from support.services.points import (
    points_credit,
)
from support.services.policies import (
    PolicyChoice,
    policy_choose,
)
from support.services.surveys import (
    SURVEY_SALT,
    SurveyLocked,
    follow_up_close,
    survey_answer,
    survey_from_token,
    survey_send,
    survey_token,
)
from support.services.tickets import (
    ALLOWED_STATUS_CHANGES,
    EMAIL_REFERENCE,
    AlreadyTaken,
    TicketClosed,
    platform_issue_report,
    ticket_assign,
    ticket_create,
    ticket_from_email,
    ticket_link_known_issue,
    ticket_merge,
    ticket_reply,
    ticket_requester_reply,
    ticket_set_cc,
    ticket_set_department,
    ticket_set_priority,
    ticket_set_status,
    ticket_take,
    tickets_close_solved,
)
from support.services.topics import (
    TopicRefresh,
    comment_topics_refresh,
)
from support.services.triage import (
    PRIORITY_RANK,
    ticket_route,
    ticket_triage,
    triage_explanation,
    triage_rule_for,
)

__all__ = [
    "ALLOWED_STATUS_CHANGES",
    "ANSWER_PERMISSION",
    "ATTACHMENTS_PER_MESSAGE",
    "ATTACHMENT_MAX_BYTES",
    "ATTACHMENT_TYPES",
    "BODY_MAX",
    "CC_MAX",
    "CLIENT_LOG_MAX",
    "CLOSED",
    "CONTEXT_FIELD_MAX",
    "EMAIL_REFERENCE",
    "NO_AGENT",
    "PLACEHOLDER",
    "PRIORITY_RANK",
    "SUBJECT_MAX",
    "SURVEY_SALT",
    "TRIAGE_MODEL",
    "AlreadyTaken",
    "ChatAvailability",
    "ChatEnded",
    "ChatRefused",
    "PolicyChoice",
    "RenderedMacro",
    "SurveyLocked",
    "TicketClosed",
    "TopicRefresh",
    "article_view",
    "article_vote",
    "chat_availability",
    "chat_convert_to_ticket",
    "chat_mark_read",
    "chat_open",
    "chat_transfer",
    "chat_unavailable_event",
    "comment_topics_refresh",
    "follow_up_close",
    "guidance_answer",
    "guidance_link_ticket",
    "guidance_read",
    "known_issue_save",
    "live_chat_status",
    "macro_context",
    "macro_render",
    "macro_render_checked",
    "platform_issue_report",
    "points_credit",
    "policy_choose",
    "survey_answer",
    "survey_from_token",
    "survey_send",
    "survey_token",
    "ticket_assign",
    "ticket_create",
    "ticket_from_email",
    "ticket_link_known_issue",
    "ticket_merge",
    "ticket_reply",
    "ticket_requester_reply",
    "ticket_route",
    "ticket_set_cc",
    "ticket_set_department",
    "ticket_set_priority",
    "ticket_set_status",
    "ticket_take",
    "ticket_triage",
    "tickets_close_solved",
    "triage_explanation",
    "triage_rule_for",
]
