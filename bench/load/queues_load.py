"""Throughput of the staff queues under load, beside /healthz measured in the same run.

    .venv/bin/python bench/backlog.py --database saypro_perf          # once: the backlog scenario
    .venv/bin/python bench/load/queues_load.py [--database saypro_perf] [--clients 8] [--seconds 20]

Starts gunicorn as the container does (scripts/gunicorn_config.py: 2 x cores + 1 workers, preloaded) on a free
local port, with DEBUG off, against the backlog database and the Redis of REDIS_URL. Then, one endpoint after the
other, --clients threads each send requests back to back for --seconds (staff pages with a signed-in session,
APIs with a token, as the product's clients do) and the table gives, per endpoint: requests per second, median
and p95 latency, errors (any answer but 200), and the ratio of its requests per second to /healthz's. The load
generator shares the machine's cores with gunicorn and PostgreSQL, as on one small server.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

# (name, persona, path): persona None is anonymous, "member" a marketplace user with a token.
ENDPOINTS = [
    ("/healthz", None, "/healthz"),
    ("API tickets (staff)", "agent", "/api/v1/staff/tickets/"),
    ("API tickets, breached", "agent", "/api/v1/staff/tickets/?view=breached"),
    ("API conversations (staff)", "agent", "/api/v1/staff/conversations/"),
    ("API registrations (staff)", "reviewer", "/api/v1/staff/registrations/"),
    ("API moderation cases (staff)", "moderator", "/api/v1/staff/moderation/cases/"),
    ("API own conversations (member)", "member", "/api/v1/conversations/"),
    ("support queue page", "agent:page", "/dashboard/support/"),
    ("review queue page", "reviewer:page", "/dashboard/registrations/"),
    ("agent inbox page", "agent:page", "/dashboard/messages/"),
    ("moderator queue page", "moderator:page", "/dashboard/moderation/"),
    ("/dashboard/ (manager)", "manager:page", "/dashboard/"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def credentials() -> dict[str, dict[str, str]]:
    """Headers per persona: a session cookie for pages (made as a sign-in makes it), a token for the API."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from accounts import roles
    from accounts.models import User

    groups = {
        "agent": roles.SUPPORT_AGENT,
        "reviewer": roles.REVIEWER,
        "moderator": roles.MODERATOR,
        "manager": roles.MANAGER,
        "member": None,
    }
    headers: dict[str, dict[str, str]] = {}
    for persona, role in groups.items():
        user, _ = User.objects.get_or_create(
            email=f"load-{persona}@saypro.example", defaults={"is_staff": role is not None, "full_name": persona}
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        token = Token.objects.get_or_create(user=user)[0].key
        headers[f"{persona}:page"] = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
        headers[persona] = {"Authorization": f"Token {token}"}
    return headers


def hammer(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": statistics.median(ordered) * 1000 if ordered else 0.0,
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000 if ordered else 0.0,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--only", default="", help="Measure /healthz and the endpoints whose name contains this.")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": f"{POSTGRES_URL}/{args.database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"),
        "SAYPRO_VAR_DIR": f"/tmp/queuesload-{args.database}",
        "DJANGO_SETTINGS_MODULE": "saypro.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "queues-load-" + "x" * 48,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback: the client sends the session cookie itself, so no TLS is needed to keep it.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SAYPRO_STAFF_2FA_REQUIRED": "0",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    headers = credentials()
    from django.db import connections

    connections.close_all()

    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "scripts/gunicorn_config.py"), "-b", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--error-logfile", str(Path(env["SAYPRO_VAR_DIR"]) / "gunicorn.log"),
         "saypro.wsgi:application"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise SystemExit("gunicorn did not answer /healthz within a minute")
        load = os.getloadavg()
        print(f"{args.clients} clients, {args.seconds:.0f} s per endpoint; load average before {load[0]:.2f}")
        print(f"{'endpoint':32} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6} {'ratio':>6}")
        baseline = None
        for name, persona, path in ENDPOINTS:
            if args.only and name != "/healthz" and args.only not in name:
                continue
            hammer(port, path, headers.get(persona or "", {}), 2, 2)  # warm every worker's caches
            row = hammer(port, path, headers.get(persona or "", {}), args.clients, args.seconds)
            baseline = baseline or row["rps"]
            print(
                f"{name:32} {row['rps']:7.1f} {row['p50']:8.1f} {row['p95']:8.1f} {row['errors']:6} "
                f"{row['rps'] / baseline:6.2f}",
                flush=True,
            )
        print(f"load average after {os.getloadavg()[0]:.2f}")
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
