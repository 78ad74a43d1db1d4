from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import rollups


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Recompute the daily rollups that reports and charts read. Without --from, each source refreshes the recent "
        "days and any day since its last refresh (what the periodic task does); with --from/--to, that range of "
        "local days is rebuilt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", type=_day, help="First day to rebuild (YYYY-MM-DD).")
        parser.add_argument("--to", dest="last", type=_day, help="Last day to rebuild (default: yesterday).")
        parser.add_argument("--source", action="append", dest="sources", help="Only this source (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        known = {source.name for source in rollups.sources()}
        unknown = set(options["sources"] or []) - known
        if unknown:
            raise CommandError(f"Unknown source(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(known))}.")
        if options["last"] and not options["first"]:
            raise CommandError("--to needs --from.")
        if options["first"] and options["last"] and options["last"] < options["first"]:
            raise CommandError("--to is before --from.")
        started = time.monotonic()
        written = rollups.rollups_refresh(first=options["first"], last=options["last"], names=options["sources"])
        for name, rows in sorted(written.items()):
            self.stdout.write(f"  {name:<20} {rows:>9,} rows")
        self.stdout.write(self.style.SUCCESS(f"Rollups refreshed in {time.monotonic() - started:.1f} s."))
