"""Server time and queries of the support area pages for a manager on a backlog: the report's support area page
(/dashboard/areas/support/) over the last 90 days and over the current quarter, and the support figures page
(/dashboard/support/figures/) for the quarter.

    .venv/bin/python bench/backlog.py --database saypro_perf                 # the backlog, once
    .venv/bin/python bench/support_area_bench.py --database saypro_perf

Each request runs in this process through Django's test client, DEBUG off; after one warm-up request, the median
(and the slowest) of --requests. The queries are those of one request, with the time each took in the database.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import timedelta

from pagekit import django_on, manager_client, print_load, print_slowest, time_page


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--queries", type=int, default=0, help="Print this many of the slowest queries of a page.")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    django_on(args.database, "supportareabench")

    from saypro import periods

    _, client = manager_client("support-area-bench-manager@saypro.example")
    today = periods.today()
    pages = {
        "area page, 90 days": (
            "/dashboard/areas/support/",
            {
                "period": "custom",
                "start": (today - timedelta(days=89)).isoformat(),
                "end": today.isoformat(),
            },
        ),
        "area page, quarter": ("/dashboard/areas/support/", {"period": "quarter", "day": today.isoformat()}),
        "figures page, quarter": ("/dashboard/support/figures/", {"period": "quarter"}),
    }
    for name, (url, params) in pages.items():
        seconds, timings = time_page(client, url, params, args.requests)
        in_database = sum(t for t, _ in timings)
        slowest = max(timings)
        print(
            f"{name:22} median {statistics.median(seconds) * 1000:6.0f} ms  max {max(seconds) * 1000:6.0f} ms  "
            f"queries {len(timings):3}  in the database {in_database * 1000:5.0f} ms  "
            f"slowest query {slowest[0] * 1000:5.0f} ms: {slowest[1][:90]}",
            flush=True,
        )
        print_slowest(timings, args.queries)
    print_load()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
