"""Container health checks, with the standard library only (no Django start-up per probe).

`web` (and `chat`, the live-chat ASGI server on port 8001): GET /healthz on this container; healthy on 200 ("ok",
or "degraded" while the broker is away: pages still work). `beat`: the scheduler rewrites its schedule file every
few minutes while it runs its loop.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BEAT_STALE_SECONDS = 600


def check_web(port: int = 8000) -> bool:
    hosts = [host.strip().lstrip(".") for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h and h != "*"), "localhost")
    # TLS ends at the proxy in front; this header (honoured with DJANGO_BEHIND_PROXY=1) spares the probe the
    # redirect to https that every other plain-HTTP request gets.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError) as exc:
        print(f"/healthz: {exc}", file=sys.stderr)
        return False


def check_beat() -> bool:
    var_dir = Path(os.environ.get("SAYPRO_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    # The dbm module may add a suffix (.db, .dat) to the schedule file's name.
    mtimes = [path.stat().st_mtime for path in var_dir.glob("celerybeat-schedule*")]
    if not mtimes:
        print(f"no beat schedule file in {var_dir}", file=sys.stderr)
        return False
    age = time.time() - max(mtimes)
    if age > BEAT_STALE_SECONDS:
        print(f"beat schedule file not written for {age:.0f} s", file=sys.stderr)
        return False
    return True


def check_chat() -> bool:
    # Daphne serves Django's HTTP views too, so the web server's probe tells whether the ASGI application is up.
    return check_web(port=8001)


CHECKS = {"web": check_web, "chat": check_chat, "beat": check_beat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CHECKS)}")
    sys.exit(0 if CHECKS[sys.argv[1]]() else 1)
