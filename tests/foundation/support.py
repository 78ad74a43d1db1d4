"""Run Django in a child process with a controlled environment: settings are read once, at import."""

from __future__ import annotations

import json
import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]

# Variables of the project's own settings; the child starts from none of them so that CI's DATABASE_URL or
# REDIS_URL cannot change what a test means.
PROJECT_PREFIXES = (
    "DJANGO_",
    "SAYPRO_",
    "DATABASE_",
    "REDIS_",
    "EMAIL_",
    "SMS_",
    "REGISTRATION_",
    "THROTTLE_",
    "SLA_",
    "CELERY_",
    "LOG_LEVEL",
    "DEFAULT_FROM_EMAIL",
    # Set by pytest-xdist in its workers; the settings would move the child's Redis database by the worker index.
    "PYTEST_XDIST_",
)


def child_env(var_dir: Path, **overrides: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(PROJECT_PREFIXES)}
    env.update(DJANGO_SETTINGS_MODULE="saypro.settings", SAYPRO_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def load_settings(env: dict[str, str]) -> dict[str, Any]:
    """The settings module's names as a process started with `env` would read them, evaluated in this process.

    saypro/settings.py only reads the environment (it imports nothing of the project and keeps no state), and it is
    the first thing `django.setup()` runs: evaluating it afresh with exactly that environment gives the values and
    the ImproperlyConfigured a new process would, without the seconds a child spends importing every app. Names the
    module leaves out have Django's defaults, as in `django.conf.settings`."""
    from django.conf import global_settings

    with mock.patch.dict(os.environ, env, clear=True):
        module = runpy.run_path(str(ROOT / "saypro" / "settings.py"))
    defaults = {name: getattr(global_settings, name) for name in dir(global_settings) if name.isupper()}
    return {**defaults, **{name: value for name, value in module.items() if name.isupper()}}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def run_manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


HEALTHZ_PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"code": response.status_code, "body": response.json()}))
"""


def probe_healthz(env: dict[str, str]) -> dict:
    result = run_python(HEALTHZ_PROBE, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def closed_port() -> int:
    """A local port nothing listens on: bound by the OS for a moment, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
