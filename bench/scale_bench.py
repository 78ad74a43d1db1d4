"""How fast the work queues, the admin change lists and the API list endpoints are on a database at scale, beside
the raw SQL of the same work.

Runs on a database that seed_demo has already filled (by default `saypro_reports`, which
`bench/reports_bench.py --keep` leaves behind with 1,000,000 users):

    .venv/bin/python bench/reports_bench.py --keep           # seed 1,000,000 users once (and measure the reports)
    .venv/bin/python bench/scale_bench.py [--requests 20]    # then measure the queues on the same data

For every page and endpoint it reports the server time per request (median and p95 over --requests requests,
through Django's test client, signed in as a member of the role that works there), the number of queries, and
beside it the raw SQL: the very statements the request ran, executed again straight on a cursor (median over the
same number of runs). The difference is what Django, the templates and the serializers add.

The API lists page with keyset cursors, so the bench also walks --deep pages into each list and measures the last
one: its time should match the first page's. The admin change lists count rows with the planner's estimate on
unfiltered lists (saypro.paginators.EstimatedCountPaginator), so their time does not grow with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reports_bench import summary  # the same median and p95

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_reports", help="An already seeded database.")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--requests", type=int, default=20, help="Requests per page measured.")
    parser.add_argument(
        "--deep",
        type=int,
        default=50,
        help="The page of each API list measured besides the first (or its last page, if shorter).",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = f"{args.postgres_url}/{args.database}"
    os.environ["SAYPRO_VAR_DIR"] = tempfile.mkdtemp(prefix="scalebench-")
    os.environ["SAYPRO_DEMO_MODE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts import roles
    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]

    def member(role: str | None) -> User:
        email = f"scale-bench-{(role or 'superuser').lower().replace(' ', '-')}@saypro.example"
        user, _ = User.objects.get_or_create(
            email=email, defaults={"is_staff": True, "is_superuser": role is None, "full_name": f"Bench {role}"}
        )
        if role:
            user.groups.add(*Group.objects.filter(name=role))
        return user

    staff = {
        "reviewer": member(roles.REVIEWER),
        "agent": member(roles.SUPPORT_AGENT),
        "moderator": member(roles.MODERATOR),
        "administrator": member(roles.ADMINISTRATOR),
        "superuser": member(None),
    }
    clients: dict[str, Client] = {}
    for persona, user in staff.items():
        clients[persona] = Client()
        clients[persona].force_login(user)
    tokens = {persona: Token.objects.get_or_create(user=user)[0].key for persona, user in staff.items()}

    def raw_time(statements: list[tuple[str, Any]]) -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()
        return time.perf_counter() - started

    def measure(persona: str, url: str, *, api: bool = False) -> dict[str, object]:
        client = clients[persona]
        headers = {"Authorization": f"Token {tokens[persona]}"} if api else {}
        response = client.get(url, headers=headers)  # warm the caches and the plan
        assert response.status_code == 200, (url, response.status_code)
        statements: list[tuple[str, Any]] = []

        def capture(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            client.get(url, headers=headers)
        # The session and token look-ups are the same on every page; keep them, they are part of the request.
        server = []
        for _ in range(args.requests):
            started = time.perf_counter()
            client.get(url, headers=headers)
            server.append(time.perf_counter() - started)
        raw = [raw_time(statements) for _ in range(args.requests)]
        return {"url": url, "as": persona, **summary(server), "queries": len(statements), "raw_sql": summary(raw)}

    def deep(persona: str, url: str) -> tuple[str, int]:
        """The URL of the page --deep pages into an API list (or of its last page, if shorter), following its
        cursors, and that page's number."""
        headers = {"Authorization": f"Token {tokens[persona]}"}
        number = 1
        while number < args.deep:
            body = clients[persona].get(url, headers=headers).json()
            if not body.get("next"):
                break
            url = "/" + body["next"].split("://", 1)[-1].split("/", 1)[-1]
            number += 1
        return url, number

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_user")
        users = cursor.fetchone()[0]
    results: dict[str, object] = {"users": users}

    pages = {
        "review queue": ("reviewer", "/dashboard/registrations/"),
        "review queue, at risk": ("reviewer", "/dashboard/registrations/?at_risk=on"),
        "review queue, search": ("reviewer", "/dashboard/registrations/?q=example.com"),
        "agent inbox, unassigned": ("agent", "/dashboard/messages/?view=unassigned"),
        "agent inbox, at risk": ("agent", "/dashboard/messages/?view=at_risk"),
        "support queue, unassigned": ("agent", "/dashboard/support/?view=unassigned"),
        "support queue, breached": ("agent", "/dashboard/support/?view=breached"),
        "moderator queue": ("moderator", "/dashboard/moderation/"),
        "moderator queue, by severity": ("moderator", "/dashboard/moderation/?sort=severity"),
        "moderator queue, at risk": ("moderator", "/dashboard/moderation/?at_risk=on"),
        "moderator queue, decided": ("moderator", "/dashboard/moderation/?status=decided"),
        "marketplace listings": ("administrator", "/dashboard/marketplace/"),
        "dashboard (administrator)": ("administrator", "/dashboard/"),
    }
    results["pages"] = {name: measure(persona, url) for name, (persona, url) in pages.items()}

    changelists = {
        "users": "/admin/accounts/user/",
        "users, search": "/admin/accounts/user/?q=example.com",
        "registrations": "/admin/accounts/registration/",
        "account events": "/admin/accounts/accountevent/",
        "sessions": "/admin/accounts/accountsession/",
        "SLA clocks": "/admin/sla/clock/",
        "audit entries": "/admin/audit/auditentry/",
        "conversations": "/admin/messaging/conversation/",
        "tickets": "/admin/support/ticket/",
        "listings": "/admin/marketplace/listing/",
        "detections": "/admin/moderation/detection/",
        "moderation cases": "/admin/moderation/case/",
        "flags": "/admin/moderation/flag/",
    }
    results["admin"] = {name: measure("superuser", url) for name, url in changelists.items()}

    lists = {
        "registrations": ("reviewer", "/api/v1/staff/registrations/"),
        "conversations": ("agent", "/api/v1/staff/conversations/"),
        "tickets": ("agent", "/api/v1/staff/tickets/"),
        "moderation cases": ("moderator", "/api/v1/staff/moderation/cases/"),
        "moderation cases, by severity": ("moderator", "/api/v1/staff/moderation/cases/?sort=severity"),
        "moderation cases, decided": ("moderator", "/api/v1/staff/moderation/cases/?status=decided"),
    }
    api: dict[str, object] = {}
    for name, (persona, url) in lists.items():
        api[name] = measure(persona, url, api=True)
        deep_url, number = deep(persona, url)
        api[f"{name}, page {number}"] = measure(persona, deep_url, api=True)
    results["api"] = api
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
