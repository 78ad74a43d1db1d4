"""The pieces the fault drills run: a scratch PostgreSQL database, a private Redis server that a drill may
stop and start, and the product's own processes (gunicorn, Celery worker, Celery beat) in process groups that a
drill may kill.

Nothing here touches the project's own database or the machine's shared Redis: each drill names its own
database and Redis port, and everything is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
POSTGRES_URL = os.environ.get("DRILL_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def wait_until(predicate: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting for {what or predicate.__name__} after {timeout:.0f} s")


def postgres_admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{POSTGRES_URL}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    """A redis-server of the drill's own, on a free port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class Stack:
    """A scratch database and private Redis, with the environment the product's processes run under."""

    def __init__(self, name: str, *, database: str = "", **settings: str) -> None:
        self.database = database or os.environ.get("DRILL_DATABASE") or f"saypro_drill_{name}"
        self.var_dir = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        self.redis = Redis()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SAYPRO_", "DATABASE_", "REDIS_"))},
            "DJANGO_SETTINGS_MODULE": "saypro.settings",
            "DATABASE_URL": f"{POSTGRES_URL}/{self.database}",
            "REDIS_URL": self.redis.url,
            "SAYPRO_VAR_DIR": str(self.var_dir),
            "EMAIL_URL": f"file://{self.var_dir / 'mail'}",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }

    def __enter__(self) -> Stack:
        postgres_admin(f"DROP DATABASE IF EXISTS {self.database}")
        postgres_admin(f"CREATE DATABASE {self.database}")
        self.redis.start()
        self.manage("migrate", "--noinput", "-v", "0")
        return self

    def __exit__(self, *exc: object) -> None:
        for name in list(self.processes):
            self.kill(name)
        self.redis.stop()
        if not os.environ.get("DRILL_KEEP"):
            postgres_admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.var_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process's life)
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> None:
        self.start(
            name,
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "saypro",
                "worker",
                "-l",
                "info",
                "-c",
                str(concurrency),
                "-n",
                f"{name}@%h",
            ],
        )

    def start_beat(self) -> None:
        self.start("beat", [PYTHON, "-m", "celery", "-A", "saypro", "beat", "-l", "info"])

    def start_web(self, port: int, workers: int = 3) -> None:
        self.start(
            "web",
            [
                PYTHON, "-m", "gunicorn", "saypro.wsgi:application", "-b", f"127.0.0.1:{port}",
                "-w", str(workers), "--access-logfile", "-",
            ],
        )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL the process and its children (a prefork worker's pool), as a crash or an OOM kill would."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def django(self) -> None:
        """Set this process up as a Django client of the drill's database and Redis."""
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
