"""Rate limits over a sliding window: the limit holds across a fixed window's edge, and the time left is when the
count is under the limit again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from saypro import ratelimit
from saypro.errors import RateLimited

HOUR = 3600
# A fixed window's edge: an hour begins.
EDGE = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def hits(key: str, count: int, *, limit: int = 20) -> None:
    for _ in range(count):
        ratelimit.check(key, limit=limit, window=HOUR, message="Too many.")


def test_the_limit_holds_across_the_edge_of_a_window():
    """Twenty events in the last second of an hour: the twenty-first just after the hour turns is refused, as it
    was within the hour. A fixed window alone let twenty more through."""
    with time_machine.travel(EDGE - timedelta(seconds=1), tick=False):
        hits("flags", 20)
    with time_machine.travel(EDGE + timedelta(seconds=1), tick=False), pytest.raises(RateLimited):
        hits("flags", 1)


def test_the_previous_window_counts_by_the_share_of_it_still_inside_the_last_window():
    with time_machine.travel(EDGE - timedelta(minutes=30), tick=False):
        hits("flags", 20)
    # Half an hour into the next hour, half the previous hour lies within the last hour: 10 of its 20, estimated.
    with time_machine.travel(EDGE + timedelta(minutes=30), tick=False):
        assert ratelimit.count("flags", window=HOUR) == 10
        hits("flags", 10)
        with pytest.raises(RateLimited):
            hits("flags", 1)
    # Two hours on, nothing of it is left.
    with time_machine.travel(EDGE + timedelta(hours=2), tick=False):
        assert ratelimit.count("flags", window=HOUR) == 0


def test_keys_and_windows_count_apart():
    with time_machine.travel(EDGE, tick=False):
        hits("one", 20)
        hits("two", 20)
        with pytest.raises(RateLimited):
            hits("one", 1)
        assert ratelimit.count("one", window=60) == 0


@pytest.mark.parametrize(
    ("previous", "current", "minutes_in"),
    [(0, 20, 10), (0, 35, 50), (30, 0, 5), (15, 12, 20), (40, 3, 1)],
)
def test_the_seconds_left_end_when_the_count_is_under_the_limit_again(previous, current, minutes_in):
    """Events in the hour before and in this one, then no more: under the limit at the moment seconds_left gives,
    not a second before."""
    with time_machine.travel(EDGE - timedelta(minutes=30), tick=False):
        for _ in range(previous):
            ratelimit.hit("sign-ins", limit=20, window=HOUR)
    with time_machine.travel(EDGE + timedelta(minutes=minutes_in), tick=False):
        for _ in range(current):
            ratelimit.hit("sign-ins", limit=20, window=HOUR)
        assert ratelimit.count("sign-ins", window=HOUR) >= 20
        seconds = ratelimit.seconds_left("sign-ins", limit=20, window=HOUR)
    at = EDGE + timedelta(minutes=minutes_in, seconds=seconds)
    with time_machine.travel(at, tick=False):
        assert ratelimit.count("sign-ins", window=HOUR) < 20
    with time_machine.travel(at - timedelta(seconds=1), tick=False):
        assert ratelimit.count("sign-ins", window=HOUR) >= 20
