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
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--queries", type=int, default=0, help="Print this many of the slowest queries of a page.")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{args.database}"
    os.environ.setdefault("SAYPRO_VAR_DIR", f"/tmp/supportareabench-{args.database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="support-area-bench-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        SAYPRO_STAFF_2FA_REQUIRED="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts import roles
    from accounts.models import User
    from saypro import periods

    call_command("collectstatic", interactive=False, verbosity=0)
    manager, _ = User.objects.get_or_create(
        email="support-area-bench-manager@saypro.example", defaults={"is_staff": True, "full_name": "Bench manager"}
    )
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    client = Client()
    client.force_login(manager)
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
    timings: list[tuple[float, str]] = []

    def record(execute, sql, params_, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params_, many, context)
        finally:
            timings.append((time.perf_counter() - started, sql))

    for name, (url, params) in pages.items():
        assert client.get(url, params).status_code == 200, name
        timings.clear()
        with connection.execute_wrapper(record):
            client.get(url, params)
        seconds = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url, params)
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 200, name
        in_database = sum(t for t, _ in timings)
        slowest = max(timings)
        print(
            f"{name:22} median {statistics.median(seconds) * 1000:6.0f} ms  max {max(seconds) * 1000:6.0f} ms  "
            f"queries {len(timings):3}  in the database {in_database * 1000:5.0f} ms  "
            f"slowest query {slowest[0] * 1000:5.0f} ms: {slowest[1][:90]}",
            flush=True,
        )
        if args.queries:
            for took, sql in sorted(timings, reverse=True)[: args.queries]:
                print(f"    {took * 1000:6.0f} ms  {' '.join(sql.split())[:150]}")
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
