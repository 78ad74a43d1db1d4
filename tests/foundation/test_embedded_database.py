"""The README's run command works on the embedded database: a new SQLite database takes every migration.

The suite runs on PostgreSQL, so a migration that only PostgreSQL accepts (an index with NULLS LAST, an extension)
would pass every other test and still stop `make run` on a fresh machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_sqlite_database_takes_every_migration(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'saypro.sqlite3'}", "SAYPRO_VAR_DIR": str(tmp_path / "var")}

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "manage.py", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    done = manage("migrate", "--noinput")
    assert done.returncode == 0, done.stderr[-3000:]
    applied = manage("showmigrations", "--plan")
    assert applied.returncode == 0 and "[ ]" not in applied.stdout, applied.stdout[-3000:]
