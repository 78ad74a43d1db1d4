"""A report's sections are built two at a time on PostgreSQL (each thread with a connection of its own): the
document is the one built section by section, and the threads read each shared figure once."""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from reports import sections
from saypro.figures.registry import shared, shared_reads

from .conftest import NOW, make_quarter_data

Q1 = NOW.date().replace(month=1, day=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite builds the sections one by one")
def test_sections_built_side_by_side_give_the_document_built_one_by_one(area_quarter, monkeypatch):
    make_quarter_data()
    from saypro import periods

    quarter = periods.containing(periods.QUARTER, Q1)
    threads: set[str] = set()
    build_section = sections.build_section

    def recorded(spec, ctx):
        threads.add(threading.current_thread().name)
        return build_section(spec, ctx)

    monkeypatch.setattr(sections, "build_section", recorded)
    side_by_side = sections.build_document(kind="quarterly", period=quarter, now=NOW).as_dict()
    assert threads and all(name.startswith("report-sections") for name in threads)

    threads.clear()
    with transaction.atomic():  # rows of an open transaction: built here, one after the other
        one_by_one = sections.build_document(kind="quarterly", period=quarter, now=NOW).as_dict()
    assert threads == {threading.current_thread().name}
    assert side_by_side == one_by_one


def test_threads_sharing_a_scope_read_a_key_once():
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        time.sleep(0.2)  # long enough for the other thread to ask meanwhile
        return 42

    with shared_reads(), ThreadPoolExecutor(max_workers=2) as pool:
        asked = [pool.submit(contextvars.copy_context().run, shared, "figure", read) for _ in range(2)]
        assert [future.result() for future in asked] == [42, 42]
    assert reads == [1]


def test_a_failed_read_fails_every_thread_waiting_for_it():
    def read() -> int:
        time.sleep(0.2)
        raise ValueError("the database went away")

    with shared_reads(), ThreadPoolExecutor(max_workers=2) as pool:
        asked = [pool.submit(contextvars.copy_context().run, shared, "figure", read) for _ in range(2)]
        for future in asked:
            with pytest.raises(ValueError, match="went away"):
                future.result()
