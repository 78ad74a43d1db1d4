from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from demo import core as demo


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Load a deterministic quarter of demo data: sign-ups with screening, reviews, decisions, SLA clocks and "
        "audit entries, then (in parallel processes on PostgreSQL) what the approved users did: account activity, "
        "listings and their moderation, conversations, tickets; then the work waiting for the demo staff logins. "
        "The same --users, --seed and --end always give the same data. The quarter is the "
        f"{demo.PERIOD_DAYS} days before --end (00:00 in TIME_ZONE), so nothing lies in the future."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=_positive, required=True, help="How many marketplace users to create.")
        parser.add_argument("--seed", type=int, required=True, help="The random seed.")
        parser.add_argument(
            "--end",
            type=_day,
            default=None,
            help="YYYY-MM-DD; the quarter ends as this day starts (default: today in TIME_ZONE).",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when marketplace users (non-staff) already exist."
        )
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=demo.DEFAULT_BATCH_SIZE,
            help=f"Rows per insert and per transaction (default {demo.DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--jobs",
            type=_positive,
            default=None,
            help="Processes for the domains after the sign-ups (default 2, 1 on SQLite: one writer at a time).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo data is only loaded when SAYPRO_DEMO_MODE is on.")
        if demo.has_marketplace_users():
            if options["if_empty"]:
                self.stdout.write("Marketplace users already exist: no demo data loaded.")
                return
            # Same seed, same e-mail addresses: a second run would collide with the first.
            raise CommandError("Marketplace users already exist: seed an empty database, or pass --if-empty.")
        end = options["end"] or timezone.localdate()
        started = time.monotonic()
        ctx = demo.seed(
            users=options["users"],
            seed=options["seed"],
            end=end,
            batch_size=options["batch_size"],
            show_progress=options["verbosity"] > 0,
            jobs=options["jobs"],
        )
        seconds = time.monotonic() - started
        rows = sum(ctx.created.values())
        period = f"{ctx.period.start.astimezone(ctx.period.tz):%Y-%m-%d} to {end - date.resolution:%Y-%m-%d}"
        self.stdout.write(self.style.SUCCESS(f"Demo data for {period}: {rows:,} rows in {seconds:.1f} s."))
        for label, count in sorted(ctx.created.items()):
            self.stdout.write(f"  {label:<28} {count:>9,}")
