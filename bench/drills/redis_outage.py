"""Drill: Redis (broker and cache) goes away for a while under sign-up traffic, then comes back.

    .venv/bin/python bench/drills/redis_outage.py [--before 20] [--during 40] [--outage-seconds 45]

The product runs as in production: gunicorn, a Celery worker and Celery beat on a scratch PostgreSQL database
and a private Redis. Sign-ups arrive through the API before, during and after the outage. The drill checks that
every sign-up during the outage was still answered (202, no 5xx), that /healthz said "degraded" meanwhile, that
the work the broker could not take waited in the outbox, and that once Redis was back the beat's outbox drain
handed it to the worker: every registration screened and acknowledged by e-mail, nothing lost, nothing twice.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from stack import Stack, free_port, wait_until

SIGNUP = {
    "password": "a-long-and-unusual-passphrase",
    "full_name": "Drill Applicant",
    "country": "ZA",
    "region": "Gauteng",
    "language": "en",
    "age_band": "25-34",
    "accepted_terms": True,
}


def request(url: str, body: dict | None = None) -> tuple[int, float, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    except urllib.error.URLError:
        # Nothing listening (yet): status 0.
        status, payload = 0, b""
    seconds = time.perf_counter() - started
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = {}
    return status, seconds, parsed


def sign_ups(base: str, start: int, count: int) -> list[tuple[int, float]]:
    results = []
    for n in range(start, start + count):
        status, seconds, _ = request(
            f"{base}/api/v1/registrations/",
            {**SIGNUP, "email": f"drill{n}@example.com", "phone": f"+2782{n:07d}", "submit": True},
        )
        results.append((status, seconds))
    return results


def summary(label: str, results: list[tuple[int, float]]) -> str:
    codes: dict[int, int] = {}
    for status, _ in results:
        codes[status] = codes.get(status, 0) + 1
    times = sorted(seconds for _, seconds in results)
    median = times[len(times) // 2] * 1000
    worst = times[-1] * 1000
    return f"{label}: {len(results)} sign-ups, statuses {codes}, median {median:.0f} ms, slowest {worst:.0f} ms"


ACKNOWLEDGEMENT = re.compile(r"^Subject: We received your SayPro registration\nFrom: .*\nTo: (.*)$", re.MULTILINE)


def acknowledgement_recipients(folder: Path) -> Counter[str]:
    """Applicant address -> acknowledgements received, read from the file e-mail backend's messages."""
    return Counter(address for log in folder.glob("*.log") for address in ACKNOWLEDGEMENT.findall(log.read_text()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=int, default=20)
    parser.add_argument("--during", type=int, default=40)
    parser.add_argument("--after", type=int, default=20)
    parser.add_argument("--outage-seconds", type=float, default=45)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "drill-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "THROTTLE_REGISTRATION": "100000/hour",
        "REGISTRATION_IP_VELOCITY": "100000",
        "REGISTRATION_SUBNET_VELOCITY": "100000",
    }
    with Stack("redis", **settings) as stack:
        stack.manage("collectstatic", "--noinput", "-v", "0")
        stack.start_web(port)
        stack.start_worker()
        stack.start_beat()
        wait_until(lambda: request(f"{base}/healthz")[0] == 200, timeout=60, what="the web server")
        stack.django()
        from accounts.models import Registration, RegistrationStatus
        from saypro.outbox.models import OutboxMessage

        total = args.before + args.during + args.after
        before = sign_ups(base, 0, args.before)
        print(summary("Redis up", before))

        stack.redis.stop()
        outage_started = time.monotonic()
        health = request(f"{base}/healthz")[2]
        print(f"Redis stopped; /healthz says {health}")
        during = sign_ups(base, args.before, args.during)
        print(summary("Redis down", during))
        stored = OutboxMessage.objects.count()
        print(f"outbox rows waiting for the broker: {stored}")
        remaining = args.outage_seconds - (time.monotonic() - outage_started)
        if remaining > 0:
            time.sleep(remaining)

        stack.redis.start()
        back = time.monotonic()
        print(f"Redis back after {back - outage_started:.0f} s; /healthz says {request(f'{base}/healthz')[2]}")
        after = sign_ups(base, args.before + args.during, args.after)
        print(summary("Redis back", after))

        def all_screened() -> bool:
            return not Registration.objects.filter(status=RegistrationStatus.SCREENING).exists()

        wait_until(all_screened, timeout=300, interval=2, what="every registration screened")
        wait_until(lambda: not OutboxMessage.objects.exists(), timeout=120, what="an empty outbox")
        print(f"outbox drained and every registration screened {time.monotonic() - back:.0f} s after Redis came back")

        acknowledged = acknowledgement_recipients(stack.var_dir / "mail")
        registrations = Registration.objects.count()
        failures = [status for status, _ in before + during + after if status != 202]
        print(f"registrations: {registrations} of {total}; failed requests: {len(failures)}")
        assert not failures, failures
        assert registrations == total
        assert stored > 0, "nothing reached the outbox: was the broker really down?"
        assert health.get("status") == "degraded", health
        expected = {f"drill{n}@example.com" for n in range(total)}
        print(f"acknowledgement e-mails: {sum(acknowledged.values())} to {len(acknowledged)} applicants")
        assert set(acknowledged) == expected, expected - set(acknowledged)
        assert all(count == 1 for count in acknowledged.values()), "an applicant was acknowledged twice"
        print("PASS: served throughout, nothing lost")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
