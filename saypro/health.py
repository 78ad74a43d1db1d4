"""GET /healthz: can this process reach what it needs? For load balancers, container health checks and people.

The database is essential (503 when it is down); the broker and the cache are not: without them pages still
load but e-mail, scoring and sweeps wait, so the answer is 200 "degraded". No authentication and no session, so
a probe costs one query, one broker round trip and one cache round trip.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# A Redis host that drops packets, instead of refusing the connection, must not hang the probe.
BROKER_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    broker_url: str = settings.CELERY_BROKER_URL
    if broker_url.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(
            broker_url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS, socket_timeout=BROKER_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    # The filesystem transport: producers and the worker exchange messages as files in this folder.
    folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OSError(f"broker folder {folder} is not writable")


def check_cache() -> None:
    key = f"healthz:{secrets.token_hex(8)}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise RuntimeError("the cache did not return what was stored")
    finally:
        cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


def run_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            # Any failure of a dependency is a failed check, not a 500. The reason goes to the log only: the
            # endpoint is public and error texts name internal hosts.
            logger.warning("health check %s failed", name, exc_info=True)
            results[name] = "down"
        else:
            results[name] = "ok"
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    if checks["database"] != "ok":
        status, code = "down", 503
    elif "down" in checks.values():
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)


urlpatterns = [path("healthz", healthz, name="healthz")]
