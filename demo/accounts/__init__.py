"""The sign-ups demo phase: a quarter of marketplace sign-ups and what screening and the reviewers made of them.

The phase does not invent outcomes: it replays the product's own rules over simulated sign-ups
(accounts.screening's checks and weights, accounts.services' routing, the SLA kernel's clock replay), so every
row looks as if the running product had written it. Every later phase builds on the users it writes.
"""

from demo.accounts.planner import Campaign, Signup, SignupPlanner
from demo.accounts.simulator import SignupSimulator
from demo.accounts.vocabulary import (
    AGE_BANDS,
    APPROVE_REASONS,
    BACKLOG_SHARE,
    BACKLOG_WINDOW,
    BOT_USER_AGENTS,
    CAMPAIGN_CODES,
    COUNTRIES,
    COUNTRY_PICK,
    DEFAULT_INFO_REQUEST,
    FRAUD_DOMAINS,
    FRAUD_HOUR_WEIGHTS,
    FRAUD_SHARE,
    GLOBAL_MAIL,
    HOSTING_NETWORKS,
    HOUR_WEIGHTS,
    INFO_REQUESTS,
    METRIC,
    OTHER_DELAY_NOTES,
    REJECT_REASONS,
    REVIEWERS,
    USER_AGENTS,
    WEEKDAY_WEIGHTS,
    Code,
    Country,
    Status,
)
from demo.accounts.writer import accounts_phase, reviewers_ensure

__all__ = [
    "AGE_BANDS",
    "APPROVE_REASONS",
    "BACKLOG_SHARE",
    "BACKLOG_WINDOW",
    "BOT_USER_AGENTS",
    "CAMPAIGN_CODES",
    "COUNTRIES",
    "COUNTRY_PICK",
    "DEFAULT_INFO_REQUEST",
    "FRAUD_DOMAINS",
    "FRAUD_HOUR_WEIGHTS",
    "FRAUD_SHARE",
    "GLOBAL_MAIL",
    "HOSTING_NETWORKS",
    "HOUR_WEIGHTS",
    "INFO_REQUESTS",
    "METRIC",
    "OTHER_DELAY_NOTES",
    "REJECT_REASONS",
    "REVIEWERS",
    "USER_AGENTS",
    "WEEKDAY_WEIGHTS",
    "Campaign",
    "Code",
    "Country",
    "Signup",
    "SignupPlanner",
    "SignupSimulator",
    "Status",
    "accounts_phase",
    "reviewers_ensure",
]
