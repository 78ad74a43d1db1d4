"""Server time and queries of the accounts area page (/dashboard/areas/accounts/) for a quarter, for a manager.

    .venv/bin/python manage.py seed_demo --users 20000 --seed 1 --end 2026-12-06     # DATABASE_URL: the database
    .venv/bin/python bench/accounts_area_bench.py --database saypro_acct_20k --day 2026-12-06 --rebuild

--rebuild first stores the rollups of every source from the start of the quarter before the page's to yesterday
(and prints how long that took), as the periodic refresh would have. Each request then runs in this process through
Django's test client, DEBUG off: one warm-up request, then --requests timed ones (median, fastest, slowest). The
queries are those of one request, with the time each took in the database; --queries prints the slowest.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

from pagekit import django_on, manager_client, print_load, print_slowest, time_page


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--day", type=date.fromisoformat, help="A day of the quarter shown (default: today).")
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--queries", type=int, default=0, help="Print this many of the slowest queries.")
    parser.add_argument("--rebuild", action="store_true", help="Store the rollups first.")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    django_on(args.database, "accountsareabench")
    from reports.rollups import rollups_refresh
    from saypro import periods

    day = args.day or periods.today()
    quarter = periods.containing(periods.QUARTER, day)
    if args.rebuild:
        started = time.perf_counter()
        written = rollups_refresh(first=quarter.previous().start, last=periods.today() - timedelta(days=1))
        print(f"rollups rebuilt in {time.perf_counter() - started:.1f} s: {written}", flush=True)
    _, client = manager_client("accounts-area-bench-manager@saypro.example")
    url, params = "/dashboard/areas/accounts/", {"period": "quarter", "day": day.isoformat()}
    seconds, timings = time_page(client, url, params, args.requests)
    print(
        f"accounts area page, {quarter.slug}: median {statistics.median(seconds) * 1000:.0f} ms "
        f"({min(seconds) * 1000:.0f}–{max(seconds) * 1000:.0f} ms over {len(seconds)}), queries {len(timings)}, "
        f"in the database {sum(t for t, _ in timings) * 1000:.0f} ms",
        flush=True,
    )
    print_slowest(timings, args.queries)
    print_load()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
