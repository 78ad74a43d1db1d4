"""The moderation demo phase: detection, flags, cases, decisions, strikes and appeals over the demo listings.

It replays the product's own rules on the listings the marketplace phase planned (moderation.detection's keyword,
link, phone and price rules, near-duplicates by MinHash, new-account velocity and the spam classifier, trained
from MODERATION_SPAM_CSV when none exists), with the thresholds of the verified badge at the time. Medium and high
scores open automatic cases (high ones hide the listing); users flag what they meet, mostly real abuse and now and
then a legitimate listing, sometimes in a burst from new accounts. Moderators on shifts decide most cases within
the 12 hours, some late after a night or a backlog; removals strike the author, suspend or ban repeat scammers;
some authors appeal and a different moderator decides. Reposts of removed scams are held for review. Clocks are
replayed with saypro.sla.replay. The spam classifier is then retrained with the quarter's decisions.
"""

from demo.moderation.simulator import (
    APPEAL_STATEMENTS,
    BACKLOG_DAYS,
    BACKLOG_SLOWDOWN,
    BAD_ACTIONS,
    COMMENTS,
    DECISION_REASONS,
    FLAG_REASON,
    FLAG_SHARE,
    KEEP_REASONS,
    MODERATORS,
    NEW_ACCOUNT,
    NIGHT_ENDS,
    OPEN_SHARE,
    OPEN_WINDOW,
    RULES,
    Code,
    DemoCase,
    DemoDetection,
    DemoFlag,
    ModerationSimulator,
    moderators_ensure,
)
from demo.moderation.work import WORK_REPORTS, moderation_work_phase
from demo.moderation.writer import moderation_phase

__all__ = [
    "APPEAL_STATEMENTS",
    "BACKLOG_DAYS",
    "BACKLOG_SLOWDOWN",
    "BAD_ACTIONS",
    "COMMENTS",
    "DECISION_REASONS",
    "FLAG_REASON",
    "FLAG_SHARE",
    "KEEP_REASONS",
    "MODERATORS",
    "NEW_ACCOUNT",
    "NIGHT_ENDS",
    "OPEN_SHARE",
    "OPEN_WINDOW",
    "RULES",
    "WORK_REPORTS",
    "Code",
    "DemoCase",
    "DemoDetection",
    "DemoFlag",
    "ModerationSimulator",
    "moderation_phase",
    "moderation_work_phase",
    "moderators_ensure",
]
