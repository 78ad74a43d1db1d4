"""Pages: the agent workspace (queues, the ticket page and its actions, follow-ups, known issues, figures), and the
public help center, transparency summary and survey pages.

Routine actions on the ticket page post with `X-Requested-With: fetch` and get the ticket's main block back to
swap in place (static/js/app.js, `form[data-inplace]`); without JavaScript they post and redirect as usual.
"""

from support.views.common import (
    QUEUE_PAGE_SIZE,
    QUEUE_REFRESH_SECONDS,
    SignedInRequest,
    ViewFunc,
    answer_page,
    figures_page,
    follow_up_page,
    known_issue_page,
    tickets_page,
)
from support.views.oversight import PERIODS, PUBLIC_FIGURE_AREAS, figures, follow_ups, known_issue_edit, known_issues
from support.views.public import (
    ALLOWED_TAGS,
    help_article,
    help_home,
    render_markdown,
    survey,
    transparency,
    transparency_csv,
)
from support.views.tickets import (
    home,
    macro_preview,
    ticket_assign,
    ticket_attachment,
    ticket_cc,
    ticket_detail,
    ticket_known_issue,
    ticket_merge,
    ticket_properties,
    ticket_reply,
)

__all__ = [
    "ALLOWED_TAGS",
    "PERIODS",
    "PUBLIC_FIGURE_AREAS",
    "QUEUE_PAGE_SIZE",
    "QUEUE_REFRESH_SECONDS",
    "SignedInRequest",
    "ViewFunc",
    "answer_page",
    "figures",
    "figures_page",
    "follow_up_page",
    "follow_ups",
    "help_article",
    "help_home",
    "home",
    "known_issue_edit",
    "known_issue_page",
    "known_issues",
    "macro_preview",
    "render_markdown",
    "survey",
    "ticket_assign",
    "ticket_attachment",
    "ticket_cc",
    "ticket_detail",
    "ticket_known_issue",
    "ticket_merge",
    "ticket_properties",
    "ticket_reply",
    "tickets_page",
    "transparency",
    "transparency_csv",
]
