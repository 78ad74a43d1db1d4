"""How fast `manage.py seed_demo` loads a quarter of demo data.

Creates a scratch database, migrates it, seeds it and reports rows per second, then drops it:

    .venv/bin/python bench/seed_demo_bench.py                    # 100,000 users on PostgreSQL (saypro_seedbench)
    .venv/bin/python bench/seed_demo_bench.py --database sqlite  # the same on a scratch SQLite file
    .venv/bin/python bench/seed_demo_bench.py --users 20000 --batch-size 2000

PostgreSQL is reached as postgres@127.0.0.1:5432 unless --postgres-url names another server; the scratch
database is always `saypro_seedbench` and is dropped at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "saypro_seedbench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 7, 1))
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--jobs", type=int, default=None, help="Processes for the domains (default: seed_demo's).")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")
    return parser.parse_args()


def postgres_admin(server_url: str, statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{server_url}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def main() -> int:
    args = parse_args()
    scratch = tempfile.mkdtemp(prefix="seedbench-")
    if args.database == "postgres":
        postgres_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        postgres_admin(args.postgres_url, f"CREATE DATABASE {BENCH_DATABASE}")
        os.environ["DATABASE_URL"] = f"{args.postgres_url}/{BENCH_DATABASE}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    # The scratch run keeps its broker folders and caches out of the project's var/.
    os.environ["SAYPRO_VAR_DIR"] = scratch
    os.environ["SAYPRO_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from demo import core as demo

    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        ctx = demo.seed(
            users=args.users,
            seed=args.seed,
            end=args.end,
            batch_size=args.batch_size,
            show_progress=True,
            jobs=args.jobs,
        )
        seconds = time.perf_counter() - started
        connection.close()
    finally:
        if args.database == "postgres" and not args.keep:
            from django.db import connections

            connections.close_all()
            postgres_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
        if args.keep:
            print(f"Kept {os.environ['DATABASE_URL']}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    rows = sum(ctx.created.values())
    # The main process, and the largest of the worker processes that seeded the domains side by side.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nseed_demo on {connection.vendor}: {args.users:,} users, batch size {args.batch_size:,}")
    for label, count in sorted(ctx.created.items()):
        print(f"  {label:<28} {count:>10,}")
    print(f"  {'total rows':<28} {rows:>10,}")
    print(
        f"{seconds:.1f} s, {rows / seconds:,.0f} rows/s, {args.users / seconds:,.0f} users/s, peak {peak_mib:,.0f} MiB"
        f" (largest worker process {worker_mib:,.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
