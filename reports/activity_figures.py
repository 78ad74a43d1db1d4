"""Daily, weekly and monthly active users and stickiness (document 001's active users), registered here because
they read the daily rollups of account activity, which belong to this app (accounts may not import reports).

Each is an average over the local days of the span, a day without anyone active counting as 0: DAU the distinct
users active that day, WAU and MAU the distinct users over the trailing 7 and 30 days ending on it.
"""

from __future__ import annotations

from accounts.figures import ACCOUNTS_DOC, ENGAGEMENT
from accounts.metrics import local_days
from saypro.figures.registry import COUNT, PERCENT, UP, FigureSpec, Measure, Query, Span, figure_register

from .rollups import Reader
from .sources import ACTIVITY_USERS


def _means(span: Span) -> tuple[dict[str, float], int]:
    """The mean of each of dau, wau and mau over the span's local days, and the number of days."""
    first, last = local_days(span.start, span.end)
    days = Reader(span.now).daily(ACTIVITY_USERS, first, last)
    count = (last - first).days
    means = {
        key: sum(values.get(key, 0.0) for values in days.values()) / count if count else 0.0
        for key in ("dau", "wau", "mau")
    }
    return means, count


def _average(key: str) -> Query:
    def query(span: Span) -> Measure:
        means, days = _means(span)
        return Measure(value=means[key] if days else None, n=days)

    return query


def stickiness(span: Span) -> Measure:
    means, days = _means(span)
    value = 100 * means["dau"] / means["mau"] if means["dau"] and means["mau"] else None
    return Measure(value=value, n=days, parts={"dau": means["dau"], "mau": means["mau"]})


def register() -> None:
    days = "the local days of the period (to date while it runs), a day without activity counting as 0"
    active = (
        " Active: a sign-in, a profile or password change, a message, a listing or a transaction on the day. "
        "n is the number of days averaged."
    )
    for key, label, definition, order in (
        ("engagement.dau", "Daily active users (average)", "Distinct users active on each day, averaged.", 30),
        (
            "engagement.wau",
            "Weekly active users (trailing 7 days, average)",
            "Distinct users active over the 7 days ending on each day, averaged.",
            31,
        ),
        (
            "engagement.mau",
            "Monthly active users (trailing 30 days, average)",
            "Distinct users active over the 30 days ending on each day, averaged.",
            32,
        ),
    ):
        figure_register(
            FigureSpec(
                key=key,
                label=label,
                unit=COUNT,
                area=ENGAGEMENT,
                definition=definition + active,
                population=days,
                placed_by="the local day of the activity",
                direction=UP,
                query=_average(key.removeprefix("engagement.")),
                source=ACCOUNTS_DOC,
                order=order,
            )
        )
    figure_register(
        FigureSpec(
            key="engagement.stickiness",
            label="Stickiness (DAU ÷ MAU)",
            unit=PERCENT,
            area=ENGAGEMENT,
            definition="The average daily active users ÷ the average monthly active users: how many of a month's "
            "users come back on a given day." + active,
            population=days,
            placed_by="the local day of the activity",
            direction=UP,
            query=stickiness,
            source=ACCOUNTS_DOC,
            order=33,
        )
    )
