"""After-commit work is queued by task name: every name a service gives is a registered Celery task."""

from __future__ import annotations

import re
from pathlib import Path

from saypro.celery import app

ROOT = Path(__file__).resolve().parents[2]
QUEUED = re.compile(r'after_commit\(\s*"([a-z_.]+)"')


def test_every_task_queued_after_commit_is_registered():
    app.loader.import_default_modules()
    named = {
        name
        for path in ROOT.glob("*/**/*.py")
        if ".venv" not in path.parts and "tests" not in path.parts
        for name in QUEUED.findall(path.read_text())
    }
    assert len(named) >= 20
    assert sorted(named - set(app.tasks)) == []
