"""Server time of every work queue page and staff queue API on a backlog, first and deep pages, every filter.

    .venv/bin/python bench/backlog.py --database saypro_perf                       # the full backlog, once
    .venv/bin/python bench/backlog.py --database saypro_perf_small --scale 0.01    # a hundredth of it
    .venv/bin/python bench/queue_bench.py --database saypro_perf_small --out /tmp/small.json
    .venv/bin/python bench/queue_bench.py --database saypro_perf --compare /tmp/small.json

Each request runs in this process through Django's test client, signed in as a member of the role that works
there (token for the API), after one warm-up request; the figure is the median of --requests (7) and the
queries of one request. A deep page is the one reached by following --deep - 1 `next` links (the page's
rel="next", the API's cursor), or the last one if the queue is shorter. With --plans, each row also shows what
the database did for one request, which the machine's load does not change: the statements' execution time,
the shared buffers they touched and the rows their scans read (EXPLAIN ANALYZE, BUFFERS). With --compare, each
row also shows the ratio to the same row of an earlier run (the hundredth backlog): a queue is flat when that
ratio stays near 1.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

# (name, persona, url, api). Every filter each page's form offers, one at a time.
PAGES: list[tuple[str, str, str, bool]] = [
    ("review queue", "reviewer", "/dashboard/registrations/", False),
    ("review queue, at risk", "reviewer", "/dashboard/registrations/?at_risk=on", False),
    ("review queue, breached", "reviewer", "/dashboard/registrations/?breached=on", False),
    ("review queue, info requested", "reviewer", "/dashboard/registrations/?status=info_requested", False),
    ("review queue, risk 80+", "reviewer", "/dashboard/registrations/?risk_min=80", False),
    ("review queue, country", "reviewer", "/dashboard/registrations/?country=ke", False),
    ("review queue, reason", "reviewer", "/dashboard/registrations/?reason=disposable_email", False),
    ("review queue, search", "reviewer", "/dashboard/registrations/?q=applicant12", False),
    ("inbox", "agent", "/dashboard/messages/", False),
    ("inbox rows (refresh)", "agent", "/dashboard/messages/list/", False),
    ("inbox, mine", "agent", "/dashboard/messages/?view=mine", False),
    ("inbox, unassigned", "agent", "/dashboard/messages/?view=unassigned", False),
    ("inbox, at risk", "agent", "/dashboard/messages/?view=at_risk", False),
    ("inbox, breached", "agent", "/dashboard/messages/?view=breached", False),
    ("inbox, uncategorised", "agent", "/dashboard/messages/?category=none", False),
    ("inbox, escalated", "agent", "/dashboard/messages/?status=escalated", False),
    ("inbox, search", "agent", "/dashboard/messages/?q=conversation+12", False),
    ("support queue", "agent", "/dashboard/support/", False),
    ("support queue, mine", "agent", "/dashboard/support/?view=mine", False),
    ("support queue, team", "agent", "/dashboard/support/?view=team", False),
    ("support queue, unassigned", "agent", "/dashboard/support/?view=unassigned", False),
    ("support queue, triage", "agent", "/dashboard/support/?view=triage", False),
    ("support queue, at risk", "agent", "/dashboard/support/?view=at_risk", False),
    ("support queue, breached", "agent", "/dashboard/support/?view=breached", False),
    ("support queue, solved", "agent", "/dashboard/support/?view=solved", False),
    ("support queue, urgent", "agent", "/dashboard/support/?priority=urgent", False),
    ("support queue, channel", "agent", "/dashboard/support/?channel=email", False),
    ("support queue, department", "agent", "/dashboard/support/?department=1", False),
    ("support queue, search", "agent", "/dashboard/support/?q=order+SP-01", False),
    ("chat panel", "agent", "/dashboard/support/chats/", False),
    ("moderator queue", "moderator", "/dashboard/moderation/", False),
    ("moderator queue, by severity", "moderator", "/dashboard/moderation/?sort=severity", False),
    ("moderator queue, at risk", "moderator", "/dashboard/moderation/?at_risk=on", False),
    ("moderator queue, breached", "moderator", "/dashboard/moderation/?breached=on", False),
    ("moderator queue, reason", "moderator", "/dashboard/moderation/?reason=fraud", False),
    ("moderator queue, brigading", "moderator", "/dashboard/moderation/?brigading=on", False),
    ("moderator queue, search", "moderator", "/dashboard/moderation/?q=applicant12", False),
    ("API registrations", "reviewer", "/api/v1/staff/registrations/", True),
    ("API conversations", "agent", "/api/v1/staff/conversations/", True),
    ("API conversations, unassigned", "agent", "/api/v1/staff/conversations/?view=unassigned", True),
    ("API conversations, breached", "agent", "/api/v1/staff/conversations/?view=breached", True),
    ("API tickets", "agent", "/api/v1/staff/tickets/", True),
    ("API tickets, mine", "agent", "/api/v1/staff/tickets/?view=mine", True),
    ("API tickets, unassigned", "agent", "/api/v1/staff/tickets/?view=unassigned", True),
    ("API tickets, at risk", "agent", "/api/v1/staff/tickets/?view=at_risk", True),
    ("API tickets, breached", "agent", "/api/v1/staff/tickets/?view=breached", True),
    ("API tickets, urgent", "agent", "/api/v1/staff/tickets/?priority=urgent", True),
    ("API moderation cases", "moderator", "/api/v1/staff/moderation/cases/", True),
]


# A queue page's link to the rows after the last one shown (templates/_keyset_nav.html).
NEXT_LINK = re.compile(r'href="([^"]+)" rel="next"')


def _scanned(node: dict[str, Any]) -> int:
    """Rows the scans under a plan node read (actual rows x loops of every scan node, before any filter)."""
    own = 0
    if "Scan" in node["Node Type"]:
        own = int(node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * int(node.get("Actual Loops", 1))
    return own + sum(_scanned(child) for child in node.get("Plans", []))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--deep", type=int, default=20, help="Which page counts as deep.")
    parser.add_argument("--only", default="", help="Measure only the rows whose name contains this.")
    parser.add_argument("--out", help="Write the figures as JSON here.")
    parser.add_argument("--compare", help="JSON of an earlier run: print each row's ratio to it.")
    parser.add_argument(
        "--plans", action="store_true", help="Also EXPLAIN ANALYZE each request's statements (time, buffers, rows)."
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{args.database}"
    os.environ.setdefault("SAYPRO_VAR_DIR", f"/tmp/queuebench-{args.database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    # As served in production: no debug toolbar of queries kept, templates cached; plain HTTP to the test client.
    os.environ.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="queue-bench-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        SAYPRO_STAFF_2FA_REQUIRED="0",  # bench people sign in with force_login, no second factor
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from accounts import roles
    from accounts.models import User

    call_command("collectstatic", interactive=False, verbosity=0)  # the hashed names production serves
    agent = User.objects.filter(email__startswith="agent", is_staff=True).order_by("pk").first()
    if agent is None:
        raise SystemExit(f"{args.database} holds no backlog: load it with bench/backlog.py first.")

    def member(persona: str, role: str) -> User:
        if persona == "agent":
            return agent  # a department member with tickets of their own, so "mine" and "team" hold rows
        user, _ = User.objects.get_or_create(
            email=f"queue-bench-{persona}@saypro.example", defaults={"is_staff": True, "full_name": f"Bench {persona}"}
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    people = {
        "reviewer": member("reviewer", roles.REVIEWER),
        "agent": member("agent", roles.SUPPORT_AGENT),
        "moderator": member("moderator", roles.MODERATOR),
    }
    clients = {}
    for persona, user in people.items():
        clients[persona] = Client()
        clients[persona].force_login(user)
    tokens = {persona: Token.objects.get_or_create(user=user)[0].key for persona, user in people.items()}

    def get(persona: str, url: str, api: bool) -> Any:
        headers = {"Authorization": f"Token {tokens[persona]}"} if api else {}
        response = clients[persona].get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    def deep_url(persona: str, url: str, api: bool) -> str:
        """The page reached by following --deep - 1 `next` links (the API's cursor, the page's rel="next")."""
        for _ in range(args.deep - 1):
            response = get(persona, url, api)
            if api:
                following = response.json().get("next")
                following = following and "/" + following.split("://", 1)[-1].split("/", 1)[-1]
            else:
                link = NEXT_LINK.search(response.content.decode())
                following = link and url.split("?", 1)[0] + html.unescape(link.group(1))
            if not following:
                break
            url = following
        return url

    def plan_totals(statements: list[tuple[str, Any]]) -> tuple[float, int, int]:
        """What the database did for one request, whatever the load: the statements' execution time and shared
        buffers touched (EXPLAIN ANALYZE BUFFERS of each SELECT), and the rows the plans' scans read."""
        sql_ms, buffers, rows_read = 0.0, 0, 0
        with connection.cursor() as cursor:
            for sql, params in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
                [plan] = cursor.fetchone()[0]
                top = plan["Plan"]
                sql_ms += plan["Execution Time"]
                buffers += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                rows_read += _scanned(top)
        return round(sql_ms, 2), buffers, rows_read

    def measure(persona: str, url: str, api: bool) -> dict[str, Any]:
        get(persona, url, api)  # warm the caches and the plan
        queries = 0

        def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        statements: list[tuple[str, Any]] = []

        def keep(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count), connection.execute_wrapper(keep):
            get(persona, url, api)
        sql_ms, buffers, rows_read = plan_totals(statements) if args.plans else (None, None, None)
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            get(persona, url, api)
            times.append(time.perf_counter() - started)
        return {
            "url": url,
            "median_ms": round(statistics.median(times) * 1000, 1),
            "queries": queries,
            "sql_ms": sql_ms,
            "buffers": buffers,
            "rows_read": rows_read,
        }

    earlier = json.loads(Path(args.compare).read_text())["rows"] if args.compare else {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM support_ticket WHERE status IN ('new', 'open', 'pending', 'on_hold')")
        open_tickets = cursor.fetchone()[0]
    load = os.getloadavg()
    print(f"database {args.database}: {open_tickets:,} open tickets; load average {load[0]:.2f} {load[1]:.2f}")
    print(
        f"{'queue':40} {'page':>5} {'ms':>8} {'queries':>7} {'sql ms':>7} {'buffers':>7} {'rows':>7}"
        + (f" {'ratio':>6}" if earlier else "")
    )
    rows: dict[str, Any] = {}
    for name, persona, url, api in PAGES:
        if args.only and args.only not in name:
            continue
        for depth, target in (("first", url), ("deep", deep_url(persona, url, api))):
            key = f"{name} | {depth}"
            row = rows[key] = measure(persona, target, api)
            line = f"{name:40} {depth:>5} {row['median_ms']:8.1f} {row['queries']:7}"
            line += f" {row['sql_ms'] or 0:7.2f} {row['buffers'] or 0:7} {row['rows_read'] or 0:7}"
            if key in earlier:
                line += f" {row['median_ms'] / earlier[key]['median_ms']:6.2f}"
            print(line, flush=True)
    worst = max(rows.values(), key=lambda row: row["median_ms"])
    print(f"slowest: {worst['median_ms']} ms ({worst['url']}); load average now {os.getloadavg()[0]:.2f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"database": args.database, "load": load, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
