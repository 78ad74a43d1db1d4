"""Server time and queries of /dashboard/ for a manager on a backlog: the shared tiles cold and warm, and a burst.

    .venv/bin/python bench/backlog.py --database saypro_perf                 # the backlog, once
    REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/dashboard_bench.py --database saypro_perf

Cold: the shared tiles removed from the cache before each request, so the request computes them (what every
request did before they were shared). Warm: the tiles computed by an earlier request within the refresh
interval. Burst: --burst threads ask for the dashboard at once with the cache cold; the tiles should be
computed once (the figure printed is how many computations ran). Each request runs in this process through
Django's test client; medians of --requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from typing import Any

from pagekit import django_on, manager_client


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--burst", type=int, default=8)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    django_on(args.database, "dashboardbench")
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection, connections
    from django.test import Client

    from reports import tiles
    from saypro.sla.promises import promises

    manager, client = manager_client("dashboard-bench-manager@saypro.example")

    # A manager sees every promise: the one key their tiles are shared under.
    key = f"{tiles.CACHE_PREFIX}:{','.join(sorted(p.metric for p in promises()))}"

    def clear() -> None:
        cache.delete(key)

    def get() -> Any:
        response = client.get("/dashboard/")
        assert response.status_code == 200, response.status_code
        return response

    def timed(before: Any) -> dict[str, float]:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        before()
        with connection.execute_wrapper(count):
            get()
        times = []
        for _ in range(args.requests):
            before()
            started = time.perf_counter()
            get()
            times.append(time.perf_counter() - started)
        return {"median_ms": round(statistics.median(times) * 1000, 1), "queries": queries}

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user")
        users = cursor.fetchone()[0]
    load = os.getloadavg()
    print(f"database {args.database}: {users:,} users; cache {settings.CACHES['default']['BACKEND']}")
    print(f"load average {load[0]:.2f} {load[1]:.2f}")
    get()  # sessions, content types, templates
    cold = timed(clear)
    print(f"cold (tiles computed)  {cold['median_ms']:8.1f} ms {cold['queries']:4} queries", flush=True)
    get()
    warm = timed(lambda: None)
    print(f"warm (tiles shared)    {warm['median_ms']:8.1f} ms {warm['queries']:4} queries", flush=True)

    computed = 0
    compute = tiles.tiles_compute

    def counting(**kwargs: Any) -> Any:
        nonlocal computed
        computed += 1
        return compute(**kwargs)

    tiles.tiles_compute = counting  # count the computations of the burst
    clear()
    barrier = threading.Barrier(args.burst)
    durations: list[float] = []

    def burst_request() -> None:
        burst_client = Client()
        burst_client.force_login(manager)
        barrier.wait()
        started = time.perf_counter()
        assert burst_client.get("/dashboard/").status_code == 200
        durations.append(time.perf_counter() - started)
        connections.close_all()

    threads = [threading.Thread(target=burst_request) for _ in range(args.burst)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        f"burst of {args.burst} cold: tiles computed {computed} time(s); slowest {max(durations) * 1000:.0f} ms, "
        f"median {statistics.median(durations) * 1000:.0f} ms; load average now {os.getloadavg()[0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
