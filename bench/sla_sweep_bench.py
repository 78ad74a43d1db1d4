"""How long the SLA sweep takes to warn and breach N due clocks, beside raw SQL doing the same writes.

    .venv/bin/python bench/sla_sweep_bench.py [--clocks 100000] [--batch-size 500] [--database NAME]

On a scratch PostgreSQL database (and a private Redis as the broker, so every warn and breach handler task is
really published), N registration clocks have passed their 75 % and 90 % points and their deadline. The sweep
runs in this process, as a worker would run the beat's task. Then the same rows are reset and one raw SQL
statement set does the same writes (mark warned and breached, insert one warn and one breach event per clock),
with no per-row compare-and-set and no publishing: the floor under what the sweep could cost.

The sweep's time is split into its SQL statements, the publishing of its handler tasks, and the rest (commits
and Python); the load averages at the start and the end are printed beside the figures, as the machine may be
shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "drills"))

from stack import Stack
from sweep_worker_kill import seed_due_clocks

RAW_SWEEP = """
WITH due AS (
    UPDATE sla_clock SET warned_percent = 90, warned_at = %(now)s, breached_at = %(now)s, next_check_at = NULL
    WHERE state = 'running' AND next_check_at <= %(now)s
    RETURNING id, due_at
), warned AS (
    INSERT INTO sla_clockevent (clock_id, kind, at, data)
    SELECT id, 'warn', %(now)s, '{"percent": 90}'::jsonb FROM due
)
INSERT INTO sla_clockevent (clock_id, kind, at, data)
SELECT id, 'breach', %(now)s, jsonb_build_object('due_at', due_at) FROM due
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database", default="", help="the scratch database (dropped at the end)")
    args = parser.parse_args()

    with Stack("sweepbench", database=args.database, SLA_SWEEP_BATCH_SIZE=str(args.batch_size)) as stack:
        stack.django()
        from django.db import connection, transaction
        from django.db.models import F
        from django.utils import timezone

        from saypro.sla import tasks
        from saypro.sla.models import Clock, ClockEvent
        from saypro.sla.services import sla_sweep

        seed_due_clocks(args.clocks)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sla_clock")

        spent = {"sql": 0.0, "publish": 0.0}

        def timed_sql(execute: Callable[..., Any], *call: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(*call)
            finally:
                spent["sql"] += time.perf_counter() - began

        publish = tasks.handle_events.delay

        def timed_publish(event_ids: list[int]) -> Any:
            began = time.perf_counter()
            try:
                return publish(event_ids)
            finally:
                spent["publish"] += time.perf_counter() - began

        tasks.handle_events.delay = timed_publish  # type: ignore[method-assign]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with connection.execute_wrapper(timed_sql):
            result = sla_sweep()
        sweep_seconds = time.perf_counter() - started
        tasks.handle_events.delay = publish  # type: ignore[method-assign]
        assert result.breached == result.warned == args.clocks, result
        assert ClockEvent.objects.count() == 2 * args.clocks

        # The same work again in raw SQL, on the same rows put back as they were.
        ClockEvent.objects.all().delete()
        Clock.objects.update(warned_percent=0, warned_at=None, breached_at=None, next_check_at=F("risk_at"))
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RAW_SWEEP, {"now": timezone.now()})
        raw_seconds = time.perf_counter() - started
        assert ClockEvent.objects.count() == 2 * args.clocks

        load_after = os.getloadavg()[0]
        rest = sweep_seconds - spent["sql"] - spent["publish"]
        print(f"clocks: {args.clocks:,}   batch size: {args.batch_size}   batches: {result.batches}")
        print(f"load average (1 min): {load_before:.2f} at the start, {load_after:.2f} at the end")
        print(f"sweep:   {sweep_seconds:8.2f} s   {args.clocks / sweep_seconds:9,.0f} clocks/s")
        sql, published = spent["sql"], spent["publish"]
        print(f"  statements {sql:.2f} s, publishing {published:.2f} s, commits and Python {rest:.2f} s")
        print(f"raw SQL: {raw_seconds:8.2f} s   {args.clocks / raw_seconds:9,.0f} clocks/s")
        print(f"overhead: x{sweep_seconds / raw_seconds:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
