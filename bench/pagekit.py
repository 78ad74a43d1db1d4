"""What the in-process page benchmarks share: Django set up on a scratch database with DEBUG off, and a manager
signed in to Django's test client."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def django_on(database: str, name: str) -> None:
    """Set Django up on `database` as production runs it (DEBUG off, so no query log grows in memory)."""
    os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{database}"
    os.environ.setdefault("SAYPRO_VAR_DIR", f"/tmp/{name}-{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=f"{name}-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        SAYPRO_STAFF_2FA_REQUIRED="0",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def manager_client(email: str) -> tuple[Any, Any]:
    """A staff user with the manager role (created once) and a test client signed in as them."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts import roles
    from accounts.models import User

    manager, _ = User.objects.get_or_create(email=email, defaults={"is_staff": True, "full_name": "Bench manager"})
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    client = Client()
    client.force_login(manager)
    return manager, client


# (seconds, SQL) of each query of a request.
Timings = list[tuple[float, str]]


def time_page(client: Any, url: str, params: dict[str, str], requests: int) -> tuple[list[float], Timings]:
    """One warm-up request, one with each query's database time recorded, then `requests` timed ones: the
    seconds of each timed request, and (seconds, SQL) of every query of the recorded one."""
    import time

    from django.db import connection
    from django.db.backends.signals import connection_created

    timings: Timings = []

    def record(execute, sql, params_, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params_, many, context)
        finally:
            timings.append((time.perf_counter() - started, sql))

    def record_new(connection: Any, **kwargs: Any) -> None:
        # Once a connection: a thread that closes its connection and opens it again keeps the same wrapper object.
        if record not in connection.execute_wrappers:
            connection.execute_wrappers.append(record)

    assert client.get(url, params).status_code == 200, url
    # The connections a request opens in threads of its own (an area page reads its figures side by side) too.
    connection_created.connect(record_new)
    try:
        with connection.execute_wrapper(record):
            client.get(url, params)
    finally:
        connection_created.disconnect(record_new)
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return seconds, timings


def print_slowest(timings: Timings, count: int) -> None:
    for took, sql in sorted(timings, reverse=True)[:count]:
        print(f"    {took * 1000:6.0f} ms  {' '.join(sql.split())[:150]}")


def print_load() -> None:
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
