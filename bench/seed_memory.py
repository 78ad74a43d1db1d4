"""Peak memory of `manage.py seed_demo`: the main process and all its processes together.

Drops and recreates a PostgreSQL database, migrates it, then runs seed_demo under `/usr/bin/time -v` while sampling
every process of the run every 2 s from `/proc/<pid>/smaps_rollup` (PSS counts the pages a forked worker still
shares with the main process once, where RSS would count them in each), and prints the peaks of the main process,
of each worker and of all together:

    .venv/bin/python bench/seed_memory.py --users 20000
    .venv/bin/python bench/seed_memory.py --users 100000 --root /tmp/before   # another checkout of the project

The database is `saypro_demo_big` unless --database names another; it is kept afterwards for a look around.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2025-07-01")
    parser.add_argument("--root", type=Path, default=ROOT, help="The checkout whose manage.py runs.")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--database", default="saypro_demo_big")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--interval", type=float, default=2.0)
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


def children(pid: int) -> list[int]:
    """The pid and all its descendants."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def main() -> int:
    args = parse_args()
    postgres_admin(args.postgres_url, f"DROP DATABASE IF EXISTS {args.database}")
    postgres_admin(args.postgres_url, f"CREATE DATABASE {args.database}")
    env = dict(os.environ, DATABASE_URL=f"{args.postgres_url}/{args.database}", SAYPRO_DEMO_MODE="1")
    manage = [args.python, str(args.root / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], check=True, env=env, cwd=args.root)
    command = ["/usr/bin/time", "-v", *manage, "seed_demo", "--users", str(args.users), "--seed", str(args.seed)]
    command += ["--end", args.end, "--verbosity", "0"]
    load_before = os.getloadavg()
    started = time.monotonic()
    timer = subprocess.Popen(command, env=env, cwd=args.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_main = peak_total = 0
    peaks: dict[int, int] = {}  # pid → its own peak PSS
    loads = []
    while timer.poll() is None:
        pids = children(timer.pid)[1:]  # below /usr/bin/time: seed_demo's main process first, then its workers
        if pids:
            sizes = [pss_kib(pid) for pid in pids]
            peak_main, peak_total = max(peak_main, sizes[0]), max(peak_total, sum(sizes))
            for pid, size in zip(pids, sizes, strict=True):
                peaks[pid] = max(peaks.get(pid, 0), size)
        loads.append(os.getloadavg()[0])
        time.sleep(args.interval)
    stdout, stderr = timer.communicate()
    seconds = time.monotonic() - started
    print(stdout)
    timing = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(": ") for line in stderr.splitlines() if ": " in line)
    }
    if timer.returncode:
        print(stderr, file=sys.stderr)
        return timer.returncode
    print(f"users {args.users:,}, seed {args.seed}, root {args.root}")
    print(f"wall {seconds:.0f} s; user {timing['User time (seconds)']} s, system {timing['System time (seconds)']} s")
    print(
        f"peak RSS of the largest process (time -v): {int(timing['Maximum resident set size (kbytes)']) / 1024:.0f} MiB"
    )
    print(f"peak PSS: main process {peak_main / 1024:.0f} MiB, all processes {peak_total / 1024:.0f} MiB")
    workers = [f"{size / 1024:.0f}" for pid, size in list(peaks.items())[1:]]  # the main process came first
    print(f"peak PSS of each worker process: {', '.join(workers) or 'none'} MiB")
    print(f"load average (1 min) at start {load_before[0]:.1f}, during min {min(loads):.1f} max {max(loads):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
