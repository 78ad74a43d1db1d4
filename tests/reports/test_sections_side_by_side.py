"""Reads side by side on PostgreSQL (saypro.side_by_side), each thread with a connection of its own: a report builds
its sections two at a time, an area page reads its figures two at a time, and either gives what reading one after
the other gives, with each shared figure read once."""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from reports import sections
from reports.document import Section
from saypro import periods
from saypro.figures import registry
from saypro.figures.registry import shared, shared_reads
from saypro.side_by_side import side_by_side

from .conftest import NOW, make_quarter_data

Q1 = NOW.date().replace(month=1, day=1)
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite reads one after the other")


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_sections_built_side_by_side_give_the_document_built_one_by_one(area_quarter, monkeypatch):
    make_quarter_data()
    quarter = periods.containing(periods.QUARTER, Q1)
    threads: set[str] = set()
    build_section = sections.build_section

    def recorded(spec, ctx):
        threads.add(threading.current_thread().name)
        return build_section(spec, ctx)

    monkeypatch.setattr(sections, "build_section", recorded)
    in_threads = sections.build_document(kind="quarterly", period=quarter, now=NOW).as_dict()
    assert threads and all(name.startswith("side-by-side") for name in threads)

    threads.clear()
    with transaction.atomic():  # rows of an open transaction: built here, one after the other
        one_by_one = sections.build_document(kind="quarterly", period=quarter, now=NOW).as_dict()
    assert threads == {threading.current_thread().name}
    assert in_threads == one_by_one


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_an_area_of_one_big_section_reads_its_figures_side_by_side_and_gets_what_one_by_one_gets(
    area_quarter, monkeypatch
):
    make_quarter_data()
    quarter = periods.containing(periods.QUARTER, Q1)
    threads: dict[str, set[str]] = {"sections": set(), "figures": set()}
    build_section, figure_read = sections.build_section, registry.figure_read

    def section_recorded(spec, ctx):
        threads["sections"].add(threading.current_thread().name)
        return build_section(spec, ctx)

    def figure_recorded(*args, **kwargs):
        threads["figures"].add(threading.current_thread().name)
        return figure_read(*args, **kwargs)

    monkeypatch.setattr(sections, "build_section", section_recorded)
    monkeypatch.setattr(registry, "figure_read", figure_recorded)

    def support_area() -> list[Section]:
        return sections.build_sections(sections.context_for(quarter, now=NOW), sections.SUPPORT)

    in_threads = support_area()
    assert threads["sections"] == {threading.current_thread().name}
    # The support section's figures; the comment topics read their one figure where they are built.
    assert {name for name in threads["figures"] if name.startswith("side-by-side")}

    threads["figures"].clear()
    with transaction.atomic():
        one_by_one = support_area()
    assert threads["figures"] == {threading.current_thread().name}
    assert in_threads == one_by_one


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_calls_made_inside_a_side_by_side_call_run_in_its_thread_and_a_failure_raises_in_its_turn():
    def inner() -> list[str]:
        return list(side_by_side([lambda: threading.current_thread().name] * 3))

    outer = list(side_by_side([inner, inner]))
    assert all(len(set(names)) == 1 and names[0].startswith("side-by-side") for names in outer)

    ran: list[int] = []

    def fails() -> int:
        raise ValueError("the database went away")

    def works(n: int) -> int:
        ran.append(n)
        return n

    results = side_by_side([lambda: works(1), fails, lambda: works(3)])
    assert next(results) == 1
    with pytest.raises(ValueError, match="went away"):
        next(results)
    assert sorted(ran) == [1, 3]


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
