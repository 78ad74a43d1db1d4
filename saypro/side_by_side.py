"""Reads that run side by side on PostgreSQL: the figures of a page or a report section, each thread on a connection
of its own, so that the database's second core works on one while the first works on another.

A figure's time is mostly the database's (an area page for a quarter on a backlog of 100,000 tickets: 77 ms of
Python for 420 ms), and a page reads dozens of them. On SQLite (which serialises its readers anyway), inside an
open transaction (its rows are invisible to other connections: a test's), and inside a call that is itself one of
the side-by-side calls (one level of threads: a pool inside a pool would only crowd the database's two cores), the
calls run here, one after the other.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.db import connection, connections

T = TypeVar("T")

# The machines the product runs on give the database two cores; a third thread made an area page slower.
THREADS = 2

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("side_by_side_inside", default=False)


def side_by_side(calls: Sequence[Callable[[], T]], *, threads: int = THREADS) -> Iterator[T]:
    """Each call's result, in the calls' order, as soon as it and those before it are done (a report's progress
    moves section by section); a call that failed raises in its turn.

    The calls run in copies of the caller's context (a shared_reads scope is shared: threads wait for the one
    reading a key), `threads` at a time, each thread taking the next call when it is done with one and closing its
    connections at the end."""
    if len(calls) < 2 or _inside.get() or connection.vendor != "postgresql" or connection.in_atomic_block:
        for call in calls:
            yield call()
        return
    results: list[Future[T]] = [Future() for _ in calls]
    lock = threading.Lock()
    indexes = iter(range(len(calls)))

    def work() -> None:
        _inside.set(True)
        try:
            while True:
                with lock:
                    index = next(indexes, None)
                if index is None:
                    return
                try:
                    results[index].set_result(calls[index]())
                except BaseException as exc:
                    results[index].set_exception(exc)
        finally:
            # A pool thread is not a request, which would close them.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="side-by-side") as pool:
        for _ in range(min(threads, len(calls))):
            pool.submit(contextvars.copy_context().run, work)
        for result in results:
            yield result.result()
