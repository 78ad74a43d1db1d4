"""Drill: PostgreSQL is restarted while the product is under load; the app must recover by itself.

    .venv/bin/python bench/drills/postgres_restart.py [--seconds 60] [--restart-at 15]

The drill runs a PostgreSQL cluster of its own (initdb in a scratch folder, on a free port, as the `postgres`
user when run as root) and restarts that one, so nothing else on the machine notices. gunicorn, a Celery worker
and beat run on a scratch database in it; four client threads sign up,
read their registration and poll /healthz throughout. The drill reports the requests that failed while the
database was away (they must be 503s with Retry-After, never a hung request), how long after the restart the
first request succeeded again, and checks that every sign-up accepted before and after was screened by the
worker: neither gunicorn nor the worker was restarted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import stack
from stack import Stack, free_port, wait_until


class Cluster:
    """A scratch PostgreSQL cluster: trust authentication, loopback only, removed at the end."""

    def __init__(self) -> None:
        self.bin = sorted(Path("/usr/lib/postgresql").iterdir())[-1] / "bin"
        self.folder = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        # PostgreSQL refuses to run as root.
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", *action.split())

    def __enter__(self) -> Cluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        self._ctl("start")
        return self

    def restart(self) -> None:
        self._ctl("-m fast restart")

    def __exit__(self, *exc: object) -> None:
        self._ctl("-m immediate stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def call(url: str, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {"retry_after": error.headers.get("Retry-After")}
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0, {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--restart-at", type=float, default=15)
    args = parser.parse_args()

    with Cluster() as cluster:
        stack.POSTGRES_URL = cluster.url
        return drill(args, cluster)


def drill(args: argparse.Namespace, cluster: Cluster) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "drill-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "THROTTLE_REGISTRATION": "1000000/hour",
        "REGISTRATION_IP_VELOCITY": "1000000",
        "REGISTRATION_SUBNET_VELOCITY": "1000000",
    }
    with Stack("pgrestart", **settings) as stack:
        stack.manage("collectstatic", "--noinput", "-v", "0")
        stack.start_web(port)
        stack.start_worker()
        stack.start_beat()
        wait_until(lambda: call(f"{base}/healthz")[0] == 200, timeout=60, what="the web server")
        stack.django()

        log: list[tuple[float, str, int, dict]] = []
        accepted: list[str] = []
        started = time.monotonic()
        stop = threading.Event()

        def client(number: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                email = f"drill-{number}-{n}@example.com"
                body = {"email": email, "password": "a-long-and-unusual-passphrase", "full_name": "Drill Applicant",
                        "phone": f"+278{number}{n:07d}", "country": "ZA", "region": "Gauteng", "language": "en",
                        "age_band": "25-34", "accepted_terms": True, "submit": True}  # fmt: skip
                status, payload = call(f"{base}/api/v1/registrations/", body)
                log.append((time.monotonic() - started, "sign-up", status, payload))
                if status == 202:
                    accepted.append(email)
                    status, payload = call(f"{base}/api/v1/auth/token/", {"email": email, "password": body["password"]})
                    log.append((time.monotonic() - started, "sign-in", status, payload))
                    if status == 200:
                        status, payload = call(f"{base}/api/v1/registrations/me/", token=payload["token"])
                        log.append((time.monotonic() - started, "own registration", status, payload))
                status, payload = call(f"{base}/healthz")
                log.append((time.monotonic() - started, "healthz", status, payload))

        threads = [threading.Thread(target=client, args=(number,)) for number in range(1, 5)]
        for thread in threads:
            thread.start()
        time.sleep(args.restart_at)
        restart_began = time.monotonic() - started
        cluster.restart()
        restart_done = time.monotonic() - started
        time.sleep(max(0.0, args.seconds - restart_done))
        stop.set()
        for thread in threads:
            thread.join()

        failed = [(at, what, status, payload) for at, what, status, payload in log if status not in (200, 202)]
        recovered = min((at for at, what, status, _ in log if at > restart_done and status in (200, 202)), default=None)
        print(f"PostgreSQL restarted from {restart_began:.1f} s to {restart_done:.1f} s")
        print(f"requests: {len(log)}; failed: {len(failed)} {dict(Counter((what, s) for _, what, s, _ in failed))}")
        if failed:
            print(f"failures between {failed[0][0]:.1f} s and {failed[-1][0]:.1f} s")
        print(f"first success after the restart: {recovered - restart_done:.2f} s after it completed")
        late = [f for f in failed if f[0] > restart_done + 5]
        assert not late, f"still failing 5 s after the restart: {late[:3]}"
        refused = [(status, payload) for _, what, status, payload in failed if what != "healthz"]
        assert all(status == 503 and payload.get("retry_after") for status, payload in refused), refused

        from accounts.models import Registration, RegistrationStatus

        wait_until(
            lambda: not Registration.objects.filter(status=RegistrationStatus.SCREENING).exists(),
            timeout=300,
            interval=2,
            what="every accepted sign-up screened",
        )
        assert Registration.objects.filter(user__email__in=accepted).count() == len(accepted)
        print(f"all {len(accepted)} accepted sign-ups screened by the same worker; PASS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
