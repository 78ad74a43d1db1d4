"""The support demo phase: a quarter of tickets as the running product would have recorded them.

Approved marketplace users file tickets over web, e-mail, chat, social, the app's "Report an issue" and converted
conversations, on a daily rhythm; triage (rules, the classifier, the triage view) picks departments and some are
corrected by agents; agents answer (first responses averaging well under 3 h, with a tail), sometimes wait on the
user, and solve most tickets inside their targets, some late. Clocks are replayed with saypro.sla.replay
under the policy the product would have chosen. Solved tickets get surveys, some answered (points credited, low
ratings followed up); platform reports link to known issues; the help center has articles, views, votes and
guidance answers, some of them deflections.
"""

from demo.support.simulator import DemoTicket
from demo.support.vocabulary import (
    AGENTS,
    ARTICLES,
    CHANNELS,
    COMMENT_SHARE,
    COMMENTS,
    DEPARTMENTS,
    GUIDANCE_PER_TICKET,
    KNOWN_ISSUES,
    LATE_RATINGS,
    LEADS,
    PRIORITIES,
    RATINGS,
    REPLIES,
    SUBJECTS,
    TICKETS_PER_USER,
    agents_ensure,
)
from demo.support.work import comment_topics_phase, support_work_phase
from demo.support.writer import support_phase

__all__ = [
    "AGENTS",
    "ARTICLES",
    "CHANNELS",
    "COMMENTS",
    "COMMENT_SHARE",
    "DEPARTMENTS",
    "GUIDANCE_PER_TICKET",
    "KNOWN_ISSUES",
    "LATE_RATINGS",
    "LEADS",
    "PRIORITIES",
    "RATINGS",
    "REPLIES",
    "SUBJECTS",
    "TICKETS_PER_USER",
    "DemoTicket",
    "agents_ensure",
    "comment_topics_phase",
    "support_phase",
    "support_work_phase",
]
