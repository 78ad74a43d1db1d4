"""How fast the dashboard, the rollups and the quarterly report are at scale, beside the raw SQL for the same figures.

Seeds a scratch PostgreSQL database with `seed_demo` (1,000,000 users by default, every installed app's demo
phase), then measures:
  * the rollup rebuild of the whole quarter and the periodic refresh (the recent days again);
  * the dashboard (`/dashboard/` for a manager: the four promise tiles) and the accounts area page for the quarter:
    server time median and p95 over repeated requests, and the queries per request; beside it, the raw-SQL
    aggregates over the clock table for the same tile figures (SLA achievement this week, month and quarter);
  * the quarterly report (figures, PDF, XLSX, CSV) from the rollups; beside it, the same figures' GROUP BY over
    the raw tables (the rollup sources' own queries over the whole quarter).

    .venv/bin/python bench/reports_bench.py                      # 1,000,000 users, seed and measure, then drop
    .venv/bin/python bench/reports_bench.py --users 50000 --keep # a quick run; keep the database
    .venv/bin/python bench/reports_bench.py --reuse              # measure an already seeded database again

The database is `saypro_reports` on postgres@127.0.0.1:5432 unless --postgres-url names another server.
Demo data takes about 7 MB of memory per 1,000 users while it is simulated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from seed_demo_bench import postgres_admin  # the same scratch-database helper

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "saypro_reports"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="Last day + 1 of the demo quarter (default: the first day of the current quarter).",
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30, help="Requests per page measured.")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--reuse", action="store_true", help="Measure the database as it is: no seeding.")
    return parser.parse_args()


def timed(fn, repeat: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def main() -> int:
    args = parse_args()
    scratch = tempfile.mkdtemp(prefix="reportsbench-")
    if not args.reuse:
        postgres_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        postgres_admin(args.postgres_url, f"CREATE DATABASE {BENCH_DATABASE}")
    os.environ["DATABASE_URL"] = f"{args.postgres_url}/{BENCH_DATABASE}"
    os.environ["SAYPRO_VAR_DIR"] = scratch
    os.environ["SAYPRO_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts import roles
    from accounts.models import User
    from demo import core as demo
    from reports import rollups, services
    from reports.models import ReportKind
    from saypro import periods
    from saypro.localtime import local_tz
    from saypro.sla import selectors as sla_selectors
    from saypro.sla.promises import promises

    settings.ALLOWED_HOSTS = ["*"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from saypro.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    results: dict[str, object] = {"users": args.users}
    end = args.end or periods.current(periods.QUARTER).start
    quarter = periods.containing(periods.QUARTER, end - timedelta(days=1))
    try:
        if not args.reuse:
            call_command("migrate", verbosity=0)
            started = time.perf_counter()
            ctx = demo.seed(users=args.users, seed=args.seed, end=end, batch_size=args.batch_size, show_progress=True)
            results["seed_seconds"] = round(time.perf_counter() - started, 1)
            results["seed_rows"] = dict(sorted(ctx.created.items()))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        counts = {}
        for model in apps.get_models():
            if model._meta.app_label in {
                "accounts",
                "sla",
                "audit",
                "messaging",
                "support",
                "moderation",
                "marketplace",
            }:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table])
                    row = cursor.fetchone()
                if row and row[0] > 0:
                    counts[model._meta.label] = int(row[0])
        results["table_rows_estimate"] = counts
        results["rows_total_estimate"] = sum(counts.values())

        # Rollups: the whole quarter (and the one before, for comparisons), then the periodic refresh.
        first = quarter.previous().start
        rebuild = timed(lambda: rollups.rollups_refresh(first=first, last=periods.today() - timedelta(days=1)))
        refresh = timed(lambda: rollups.rollups_refresh(), repeat=3)
        results["rollup_rebuild_seconds"] = round(rebuild[0], 1)
        results["rollup_refresh_seconds"] = summary(refresh)

        manager, _ = User.objects.get_or_create(email="bench-manager@saypro.example", defaults={"is_staff": True})
        manager.groups.add(*Group.objects.filter(name=roles.MANAGER))
        client = Client()
        client.force_login(manager)

        def page(url: str, params: dict[str, str] | None = None) -> dict[str, object]:
            response = client.get(url, params)  # warm
            assert response.status_code == 200, (url, response.status_code)
            queries: list[str] = []

            def count(execute, sql, params_, many, context):  # type: ignore[no-untyped-def]
                queries.append(sql)
                return execute(sql, params_, many, context)

            with connection.execute_wrapper(count):
                client.get(url, params)
            seconds = timed(lambda: client.get(url, params), repeat=args.requests)
            return {**summary(seconds), "queries": len(queries)}

        results["dashboard"] = page("/dashboard/")
        results["area_accounts_quarter"] = page(
            "/dashboard/areas/accounts/", {"period": "quarter", "day": quarter.start.isoformat()}
        )

        def raw_tiles() -> None:
            now = timezone.now()
            for promise in promises():
                for kind in (periods.WEEK, periods.MONTH, periods.QUARTER):
                    sla_selectors.compliance(
                        metric=promise.metric, start=periods.current(kind, now).start_at, end=now, now=now
                    )
                sla_selectors.queue_counts(metric=promise.metric, now=now)

        results["dashboard_raw_sql"] = summary(timed(raw_tiles, repeat=args.requests))

        def report() -> None:
            run = services.report_request(kind=ReportKind.QUARTERLY, period=quarter, by=manager)
            run.refresh_from_db()
            assert run.status == "done", run.error

        results["quarterly_report_seconds"] = [round(s, 2) for s in timed(report, repeat=3)]

        def raw_quarter() -> None:
            now = timezone.now()
            for source in rollups.sources():
                list(source.compute(quarter.start_at, quarter.end_at, local_tz(), now, frozenset(source.metrics)))

        results["quarter_figures_raw_sql_seconds"] = [round(s, 2) for s in timed(raw_quarter, repeat=3)]
        results["peak_memory_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(results, indent=2, default=str))
    finally:
        connection.close()
        if not args.keep and not args.reuse:
            postgres_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
