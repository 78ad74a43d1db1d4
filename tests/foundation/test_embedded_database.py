"""The README's run command works on the embedded database: a new SQLite database takes every migration.

The suite runs on PostgreSQL, so a migration that only PostgreSQL accepts (an index with NULLS LAST, an extension)
would pass every other test and still stop `make run` on a fresh machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_sqlite_database_takes_every_migration(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'saypro.sqlite3'}", "SAYPRO_VAR_DIR": str(tmp_path / "var")}
    # The system checks are not what this checks (tests/foundation/test_settings.py runs them).
    command = [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    # Every migration of the project's graph was applied, each once: migrate prints "Applying app.name... OK".
    applied = re.findall(r"^  Applying (\S+)\.\.\. OK$", done.stdout, flags=re.MULTILINE)
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    assert sorted(applied) == sorted(f"{app}.{name}" for app, name in graph.nodes), done.stdout[-3000:]
