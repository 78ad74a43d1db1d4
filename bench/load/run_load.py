"""Load test of the hot paths on a production-like stack, stepping up the load until errors or latency say stop.

    python3 -m venv /tmp/locust && /tmp/locust/bin/pip install -r bench/load/requirements.txt
    .venv/bin/python bench/load/run_load.py --locust /tmp/locust/bin/locust [--steps 10,20,40,80] [--seconds 60]

The stack: gunicorn with the container's worker count (2 x cores + 1), a Celery worker, PostgreSQL and a private
Redis, with DEBUG off, on a scratch database holding seed_demo's quarter (--users) and the demo staff logins.
Each step runs locust headless for --seconds with that many simulated people (marketplace users signing up,
writing to the admins and posting listings; agents on their inbox; managers on the dashboard), and reports
requests per second, median and p95 latency and errors, per path and overall. The highest step with no error
is the figure to quote.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drills"))

from stack import ROOT, Stack, free_port, wait_until

HERE = Path(__file__).resolve().parent
STAFF_PASSWORD = "load-test-password-2026"


def make_tokens(count: int) -> list[str]:
    """Approved marketplace users with API tokens, as the marketplace app holds them after sign-up."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    now = timezone.now()
    password = make_password("a-long-and-unusual-passphrase")
    users = User.objects.bulk_create(
        User(
            email=f"load-seller-{n}@example.com",
            full_name=f"Load Seller {n}",
            password=password,
            country="ZA",
            region="Gauteng",
            email_verified_at=now,
            phone_verified_at=now,
        )
        for n in range(count)
    )
    tokens = Token.objects.bulk_create(Token(user=user, key=Token.generate_key()) for user in users)
    return [token.key for token in tokens]


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--locust", default="locust", help="the locust executable (its own virtualenv)")
    parser.add_argument("--users", type=int, default=5000, help="seed_demo users in the database")
    parser.add_argument("--steps", default="10,20,40,80", help="simulated people per step")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()

    port = free_port()
    # TLS as in production: the session and CSRF cookies are Secure, so a plain-HTTP client would lose them.
    host = f"https://127.0.0.1:{port}"
    settings = {
        "DJANGO_DEBUG": "0",
        "SAYPRO_DEMO_MODE": "1",
        "SAYPRO_DEMO_PASSWORD": STAFF_PASSWORD,
        "DJANGO_SECRET_KEY": "load-" + "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": host,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # The demo staff logins have no authenticator: agents and managers need none, and these are the ones used.
        "SAYPRO_STAFF_2FA_REQUIRED": "0",
        # One address sends everything here: the per-address limits would measure themselves, not the product.
        "THROTTLE_REGISTRATION": "1000000/hour",
        "REGISTRATION_IP_VELOCITY": "1000000",
        "REGISTRATION_SUBNET_VELOCITY": "1000000",
        "MESSAGING_USER_MESSAGES_PER_HOUR": "1000000",
    }
    with Stack("load", **settings) as stack:
        stack.manage("collectstatic", "--noinput", "-v", "0")
        stack.manage("seed_demo", "--users", str(args.users), "--seed", "1", "-v", "0")
        stack.manage("ensure_staff")
        stack.django()
        tokens_file = stack.var_dir / "tokens.json"
        tokens_file.write_text(json.dumps(make_tokens(200)))
        cert, key = stack.var_dir / "cert.pem", stack.var_dir / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        stack.start(
            "web",
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "scripts/gunicorn_config.py"),
             "-b", f"127.0.0.1:{port}", "--certfile", str(cert), "--keyfile", str(key),
             "--access-logfile", "/dev/null", "saypro.wsgi:application"],
        )  # fmt: skip
        stack.start_worker()
        wait_until(lambda: subprocess.run(["curl", "-skf", f"{host}/healthz"], capture_output=True).returncode == 0,
                   timeout=60, what="gunicorn")  # fmt: skip

        rows = []
        for people in [int(step) for step in args.steps.split(",")]:
            prefix = stack.var_dir / f"step{people}"
            started = time.monotonic()
            subprocess.run(
                [
                    args.locust, "-f", str(HERE / "locustfile.py"), "--headless", "--host", host,
                    "-u", str(people), "-r", str(max(1, people // 5)), "-t", f"{args.seconds}s",
                    "--csv", str(prefix), "--only-summary",
                ],
                env={**stack.env, "LOAD_TOKENS": str(tokens_file), "LOAD_STAFF_PASSWORD": STAFF_PASSWORD},
                check=False,
                capture_output=True,
            )  # fmt: skip
            rows.extend((people, row) for row in read_stats(prefix))
            with open(f"{prefix}_failures.csv", newline="") as handle:
                for failure in csv.DictReader(handle):
                    print(f"  {failure['Occurrences']} x {failure['Name']}: {failure['Error'][:160]}")
            print(f"step {people} people done in {time.monotonic() - started:.0f} s", flush=True)

        print(f"\n{'people':>6}  {'path':<26} {'requests':>8} {'errors':>6} {'req/s':>7} {'median':>7} {'p95':>7}")
        for people, row in rows:
            print(
                f"{people:>6}  {row['Name']:<26} {row['Request Count']:>8} {row['Failure Count']:>6} "
                f"{float(row['Requests/s']):>7.1f} {row['50%']:>5} ms {row['95%']:>5} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
