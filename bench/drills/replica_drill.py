"""Drill: a PostgreSQL streaming replica on this machine takes a quarterly report's reads off the primary.

    .venv/bin/python bench/drills/replica_drill.py [--scale 0.01]

Everything runs in private clusters on free local ports, as the postgres system user, in a scratch folder that
is removed at the end; the machine's own PostgreSQL is not touched:

1. a primary (initdb, wal_level replica) with a scratch database holding the backlog scenario (bench/backlog.py
   at --scale);
2. a replica made with `pg_basebackup -R -X stream` from it, started on another port, streaming;
3. a row written on the primary, and the time until the replica has it (the lag);
4. the quarterly report requested and generated in this process with DATABASE_REPLICA_URL set (the task runs
   eagerly, so saypro.replica's task signal routes its reads), its rows read from the replica;
5. per source table, the scans the report caused on the primary and on the replica (pg_stat_user_tables): the
   primary's stay at zero but for the report run's own row, the replica's grow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stack import ROOT, free_port

BIN = Path("/usr/lib/postgresql/15/bin")
SOURCE_TABLES = [
    "support_ticket",
    "messaging_conversation",
    "accounts_registration",
    "moderation_case",
    "sla_clock",
    "accounts_user",
]


def as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def scans(url: str) -> dict[str, int]:
    """Sequential plus index scans per source table, as that server counted them."""
    names = ", ".join(f"'{name}'" for name in SOURCE_TABLES)
    rows = sql(
        url,
        "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
        f"WHERE relname IN ({names})",
    )
    return {str(name): int(count) for name, count in rows}  # type: ignore[call-overload]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.01, help="Share of the backlog scenario to load.")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="replica-drill-"))
    shutil.chown(scratch, "postgres", "postgres")
    primary_dir, replica_dir = scratch / "primary", scratch / "replica"
    primary_port, replica_port = free_port(), free_port()
    socket_dir = str(scratch)
    primary = f"postgres://postgres@127.0.0.1:{primary_port}"
    replica = f"postgres://postgres@127.0.0.1:{replica_port}"
    started: list[Path] = []
    try:
        as_postgres(str(BIN / "initdb"), "-D", str(primary_dir), "-A", "trust", "-U", "postgres")
        with open(primary_dir / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {primary_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket_dir}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
                "track_counts = on\nstats_fetch_consistency = none\n"
            )
        as_postgres(str(BIN / "pg_ctl"), "-D", str(primary_dir), "-l", str(scratch / "primary.log"), "-w", "start")
        started.append(primary_dir)
        print(f"primary on port {primary_port}", flush=True)

        began = time.monotonic()
        subprocess.run(
            [sys.executable, str(ROOT / "bench/backlog.py"), "--database", "saypro_drill", "--scale", str(args.scale)],
            env={**os.environ, "BENCH_POSTGRES_URL": primary, "SAYPRO_VAR_DIR": str(scratch / "var")},
            check=True,
            capture_output=True,
        )
        print(f"backlog at scale {args.scale} loaded on the primary in {time.monotonic() - began:.0f} s", flush=True)

        began = time.monotonic()
        as_postgres(
            str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
            "-D", str(replica_dir), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        as_postgres(
            str(BIN / "pg_ctl"), "-D", str(replica_dir), "-l", str(scratch / "replica.log"),
            "-o", f"-p {replica_port}", "-w", "start",
        )  # fmt: skip
        started.append(replica_dir)
        print(f"replica from pg_basebackup on port {replica_port} in {time.monotonic() - began:.1f} s", flush=True)
        state = sql(f"{primary}/postgres", "SELECT state, sync_state FROM pg_stat_replication")
        in_recovery = sql(f"{replica}/postgres", "SELECT pg_is_in_recovery()")[0][0]
        print(f"primary sees its standby: {state}; replica in recovery: {in_recovery}", flush=True)

        sql(
            f"{primary}/saypro_drill",
            "CREATE TABLE drill_marker (at timestamptz); INSERT INTO drill_marker VALUES (now())",
        )
        written = time.monotonic()
        while not sql(f"{replica}/saypro_drill", "SELECT to_regclass('drill_marker') IS NOT NULL")[0][0]:
            time.sleep(0.01)
        print(f"a row written on the primary was on the replica {1000 * (time.monotonic() - written):.0f} ms later")

        os.environ.update(
            DATABASE_URL=f"{primary}/saypro_drill",
            DATABASE_REPLICA_URL=f"{replica}/saypro_drill",
            DJANGO_SETTINGS_MODULE="saypro.settings",
            SAYPRO_VAR_DIR=str(scratch / "var"),
            CELERY_TASK_ALWAYS_EAGER="1",
        )
        os.environ.pop("REDIS_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connections, transaction
        from django.utils import timezone

        from reports.models import ReportRun
        from reports.services import report_period, report_request

        time.sleep(1.5)  # the servers publish their table statistics at most once a second
        before = {"primary": scans(f"{primary}/saypro_drill"), "replica": scans(f"{replica}/saypro_drill")}
        began = time.monotonic()
        with transaction.atomic():
            run = report_request(
                kind="quarterly", period=report_period(kind="quarterly", day=timezone.now().date()), by=None
            )
        run = ReportRun.objects.get(pk=run.pk)
        seconds = time.monotonic() - began
        connections.close_all()
        time.sleep(1.5)
        after = {"primary": scans(f"{primary}/saypro_drill"), "replica": scans(f"{replica}/saypro_drill")}
        print(f"quarterly report {run.period_slug}: {run.status} in {seconds:.1f} s ({run.step})")
        print(f"{'table':26} {'primary scans':>14} {'replica scans':>14}")
        for table in SOURCE_TABLES:
            primary_delta = after["primary"].get(table, 0) - before["primary"].get(table, 0)
            replica_delta = after["replica"].get(table, 0) - before["replica"].get(table, 0)
            print(f"{table:26} {primary_delta:14} {replica_delta:14}")
        return 0 if run.status == "done" else 1
    finally:
        for data_dir in reversed(started):
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "stop"],
                check=False,
                capture_output=True,
            )
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
