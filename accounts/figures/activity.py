"""Document 001's user-account performance figures: engagement (session length), account issues (sign-in
problems, lockouts, recovery) and security and privacy (suspicious activity, privacy, consent and preference
changes). Each can be read for one region: the region the user gave.

Active users per day, week and month, churn and retention count distinct users over spans of days: they read the
rollups of account activity, so the reports app registers them (its figures read them; this app may not import
reports). Account-related tickets are support's figures.
"""

from __future__ import annotations

from typing import Any

from saypro.figures.registry import (
    COUNT,
    DOWN,
    HOURS,
    MINUTES,
    PERCENT,
    UP,
    Direction,
    FigureSpec,
    Measure,
    Query,
    Span,
    figure_register,
    shared,
)

from .. import metrics
from .registrations import ACCOUNTS_DOC, ENGAGEMENT, ISSUES, PRIVACY

DIMENSIONS = ("region",)


def _args(span: Span) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "region": span.filters.get("region") or None}


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def session_minutes(span: Span) -> Measure:
    row = metrics.sessions(**_args(span))
    return Measure(value=row.average_minutes, n=row.count)


def account_events(span: Span) -> metrics.AccountEvents:
    """One read of the span's account events for the sign-in, security and privacy figures, and for the tables
    of the same span beside them (reports' sections ask with the span the figures read)."""
    return shared(("account_events", *span.key()), lambda: metrics.account_events(**_args(span)))


def _login_issues(span: Span) -> metrics.LoginIssues:
    return account_events(span).login_issues


def _recovery(span: Span) -> metrics.Recovery:
    """One read of the password resets for the three recovery figures (the median with them)."""
    return shared(("recovery", *span.key()), lambda: metrics.recovery(**_args(span)))


def failed_sign_ins(span: Span) -> Measure:
    row = _login_issues(span)
    return Measure(value=float(row.failures), n=row.failures, parts={"users_affected": row.users_affected})


def failure_rate(span: Span) -> Measure:
    row = _login_issues(span)
    return Measure(value=_percent(row.failure_rate), n=row.attempts, parts={"failures": row.failures})


def login_problem_users(span: Span) -> Measure:
    n = metrics.login_problem_users(**_args(span))
    return Measure(value=float(n), n=n)


def lockouts(span: Span) -> Measure:
    row = metrics.lockouts(**_args(span))
    return Measure(
        value=float(row.count),
        n=row.count,
        parts={"accounts": row.accounts, "released_by_admin": row.released_by_admin},
    )


def recovery_requests(span: Span) -> Measure:
    row = _recovery(span)
    return Measure(value=float(row.requests), n=row.requests, parts={"completed": row.completed})


def recovery_completion(span: Span) -> Measure:
    row = _recovery(span)
    return Measure(value=_percent(row.completion_rate), n=row.requests, parts={"completed": row.completed})


def recovery_hours(span: Span) -> Measure:
    row = _recovery(span)
    parts = {} if row.median_hours is None else {"median_hours": row.median_hours}
    return Measure(value=row.average_hours, n=row.completed, parts=parts)


def _by_reason(counts: dict[str, int]) -> Measure:
    total = sum(counts.values())
    return Measure(value=float(total), n=total, parts={reason or "unknown": n for reason, n in counts.items()})


def suspicious(span: Span) -> Measure:
    return _by_reason(account_events(span).by_reason(metrics.Kind.SUSPICIOUS))


def privacy_changes(span: Span) -> Measure:
    return _by_reason(account_events(span).by_reason(metrics.Kind.PRIVACY_CHANGED))


def preference_changes(span: Span) -> Measure:
    n = account_events(span).total(metrics.Kind.PREFERENCES_CHANGED)
    return Measure(value=float(n), n=n)


def _spec(
    key: str,
    label: str,
    unit: str,
    area: str,
    direction: Direction,
    query: Query,
    definition: str,
    population: str,
    placed_by: str,
    order: int,
) -> FigureSpec:
    return FigureSpec(
        key=key,
        label=label,
        unit=unit,
        area=area,
        definition=definition,
        population=population,
        placed_by=placed_by,
        direction=direction,
        query=query,
        source=ACCOUNTS_DOC,
        dimensions=DIMENSIONS,
        order=order,
    )


SIGN_IN_ATTEMPT = "the moment of the sign-in attempt"


def register() -> None:
    for spec in (
        _spec(
            "engagement.session_minutes",
            "Average session",
            MINUTES,
            ENGAGEMENT,
            UP,
            session_minutes,
            "The average time from a session's sign-in to its last activity, in minutes.",
            "sessions started in the period",
            "the moment the session started",
            50,
        ),
        _spec(
            "account_issues.failed_sign_ins",
            "Failed sign-ins",
            COUNT,
            ISSUES,
            DOWN,
            failed_sign_ins,
            "Sign-in attempts refused (a wrong password, a locked or unknown account), with the number of known "
            "accounts they concerned.",
            "sign-in attempts in the period",
            SIGN_IN_ATTEMPT,
            10,
        ),
        _spec(
            "account_issues.failure_rate",
            "Sign-in failure rate",
            PERCENT,
            ISSUES,
            DOWN,
            failure_rate,
            "Failed sign-ins ÷ all sign-in attempts, successful or not.",
            "sign-in attempts in the period",
            SIGN_IN_ATTEMPT,
            20,
        ),
        _spec(
            "account_issues.login_problem_users",
            "Users facing sign-in problems",
            COUNT,
            ISSUES,
            DOWN,
            login_problem_users,
            "Users who had a failed sign-in, were locked out or asked to reset a forgotten password in the period, "
            "each counted once.",
            "users with a failed sign-in, a lockout or a reset request in the period",
            "the moment of the failure, lockout or request",
            25,
        ),
        _spec(
            "account_issues.lockouts",
            "Lockouts",
            COUNT,
            ISSUES,
            DOWN,
            lockouts,
            "Times an account was locked after repeated failed sign-ins or for security, with how many an "
            "administrator released before the cool-off ended.",
            "lockouts started in the period",
            "the moment the lockout started",
            30,
        ),
        _spec(
            "account_issues.recovery_requests",
            "Recovery requests",
            COUNT,
            ISSUES,
            DOWN,
            recovery_requests,
            "Requests to recover an account by resetting its password, whether completed or not.",
            "password-reset requests made in the period",
            "the moment of the request",
            40,
        ),
        _spec(
            "account_issues.recovery_completion",
            "Recoveries completed",
            PERCENT,
            ISSUES,
            UP,
            recovery_completion,
            "Password-reset requests the user completed (set a new password) ÷ requests made.",
            "password-reset requests made in the period",
            "the moment of the request",
            50,
        ),
        _spec(
            "account_issues.recovery_hours",
            "Time to recover (average)",
            HOURS,
            ISSUES,
            DOWN,
            recovery_hours,
            "The average time from a password-reset request to the new password being set, with the median.",
            "password-reset requests made in the period and completed",
            "the moment of the request",
            60,
        ),
        _spec(
            "security.suspicious",
            "Suspicious activity",
            COUNT,
            PRIVACY,
            DOWN,
            suspicious,
            "Suspicious sign-in activity detected or reported: sign-ins from a new device or network, bursts of "
            "failures, credential stuffing, unauthorised access.",
            "suspicious-activity events in the period",
            "the moment of the event",
            40,
        ),
        _spec(
            "security.privacy_changes",
            "Privacy-preference changes",
            COUNT,
            PRIVACY,
            UP,
            privacy_changes,
            "Changes users made to their privacy choices: consent to data processing given or withdrawn, and "
            "marketing opt-ins and opt-outs.",
            "privacy-choice changes in the period",
            "the moment of the change",
            50,
        ),
        _spec(
            "security.preference_changes",
            "Notification-preference changes",
            COUNT,
            PRIVACY,
            UP,
            preference_changes,
            "Changes users made to what they are sent (e-mail and notification preferences).",
            "preference changes in the period",
            "the moment of the change",
            60,
        ),
    ):
        figure_register(spec)
