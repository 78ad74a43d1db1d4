"""CPU time of the test suite, per test and phase: a pytest plugin and its summary.

Wall time on a shared machine says more about the neighbours than about the tests; CPU time does not. Run

    SAYPRO_TEST_CPU_DIR=/tmp/cpu PYTHONPATH=bench pytest -p suite_cpu -n 2 …
    python bench/suite_cpu.py /tmp/cpu

The plugin writes one line per test and phase (set-up, call, tear-down) to `<dir>/<process>.jsonl`: the CPU
seconds of the test process (all its threads: the live server, an in-process Celery worker) plus those of the
children it waited for (Django started in a child process), the CPU seconds of the PostgreSQL backend serving the
test process's connection (read from /proc: the server runs on this machine), and the wall seconds. The backends of
other connections (a live server's threads) and Chromium's CPU are not in it (Chromium is reaped only at the end of
the session). The summary adds them up by folder and file.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENV = "SAYPRO_TEST_CPU_DIR"


def _cpu() -> float:
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


def _backend_cpu() -> float | None:
    """CPU seconds of the PostgreSQL backend behind the default connection; None without one (or while a test
    makes the connection pass for another vendor's)."""
    from django.db import connection

    raw = connection.connection if connection.vendor == "postgresql" else None
    if raw is None or raw.closed:
        return None
    try:
        fields = Path(f"/proc/{raw.get_backend_pid()}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Plugin:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.out: Any = None

    def _record(self, nodeid: str, phase: str, cpu: float, db: float, wall: float, at: float) -> None:
        if self.out is None:
            # Opened at the first test: under xdist the controller runs none and leaves no file.
            self.folder.mkdir(parents=True, exist_ok=True)
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            self.out = (self.folder / f"{worker}.jsonl").open("a", encoding="utf-8")
        line = {"test": nodeid, "phase": phase, "cpu": round(cpu, 4), "db": round(db, 4)}
        line |= {"wall": round(wall, 4), "at": round(at, 3)}
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()

    def _measure(self, item: Any, phase: str) -> Iterator[None]:
        # perf_counter, not time.time: tests that travel in time move the latter. On Linux it is one clock for
        # every process, so the test processes' spans compare.
        cpu, db, at = _cpu(), _backend_cpu(), time.perf_counter()
        yield
        # A connection opened or closed during the phase: its backend's CPU before or after is not known.
        db_after = _backend_cpu()
        db_used = max(db_after - db, 0.0) if db is not None and db_after is not None else 0.0
        self._record(item.nodeid, phase, _cpu() - cpu, db_used, time.perf_counter() - at, at)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: Any) -> Iterator[None]:
        yield from self._measure(item, "setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Iterator[None]:
        yield from self._measure(item, "call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: Any) -> Iterator[None]:
        yield from self._measure(item, "teardown")


def pytest_configure(config: Any) -> None:
    folder = os.environ.get(ENV)
    if folder:
        config.pluginmanager.register(_Plugin(Path(folder)), "saypro-suite-cpu")


def _test_cpu(sums: collections.Counter[str]) -> float:
    return sums["setup"] + sums["call"] + sums["teardown"]


def _figures(sums: collections.Counter[str]) -> str:
    return f"{_test_cpu(sums):8.1f} {sums['setup']:8.1f} {sums['call']:8.1f} {sums['db']:8.1f} {sums['wall']:8.1f}"


def summarize(folder: Path, top: int = 40) -> None:
    files: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    counts: collections.Counter[str] = collections.Counter()
    # Per test process: when its first test started and its last one ended, and its CPU: a process that ends
    # long before another is the tail the scheduler left.
    spans: dict[str, list[float]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            span = spans.setdefault(path.stem, [row["at"], row["at"], 0.0])
            span[0], span[1] = min(span[0], row["at"]), max(span[1], row["at"] + row["wall"])
            span[2] += row["cpu"]
            name = row["test"].split("::")[0]
            files[name][row["phase"]] += row["cpu"]
            files[name]["wall"] += row["wall"]
            files[name]["db"] += row.get("db", 0.0)
            counts[name] += row["phase"] == "call"
    folders: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for name, sums in files.items():
        folders[name.rsplit("/", 1)[0]].update(sums)

    total: collections.Counter[str] = collections.Counter()
    for sums in files.values():
        total.update(sums)
    print(
        f"{sum(counts.values())} tests: {_test_cpu(total):.1f} s CPU (set-up {total['setup']:.1f}, call "
        f"{total['call']:.1f}, tear-down {total['teardown']:.1f}), {total['db']:.1f} s CPU of PostgreSQL, "
        f"{total['wall']:.1f} s wall summed"
    )
    if spans:
        start = min(span[0] for span in spans.values())
        for worker, (first, last, used) in sorted(spans.items()):
            print(f"{worker}: tests from {first - start:.0f} s to {last - start:.0f} s, {used:.1f} s CPU")
    header = f"{'CPU s':>8} {'set-up':>8} {'call':>8} {'PG s':>8} {'wall s':>8}"
    print(f"\n{header}  folder")
    for name, sums in sorted(folders.items(), key=lambda kv: -_test_cpu(kv[1])):
        print(f"{_figures(sums)}  {name}")
    print(f"\n{header} {'tests':>6}  file")
    for name, sums in sorted(files.items(), key=lambda kv: -_test_cpu(kv[1]) - kv[1]["db"])[:top]:
        print(f"{_figures(sums)} {counts[name]:6d}  {name}")


if __name__ == "__main__":
    summarize(Path(sys.argv[1]), top=int(sys.argv[2]) if len(sys.argv) > 2 else 40)
