"""Drill: the Celery worker is killed (SIGKILL, pool and all) in the middle of the SLA sweep.

    .venv/bin/python bench/drills/sweep_worker_kill.py [--clocks 20000] [--kill-at 0.3]

A scratch PostgreSQL database gets N registration clocks whose 75 % and 90 % points and deadline have all
passed (the scheduler was away). A real worker runs the beat's sweep task; once a share of the clocks is
breached the worker is killed. A new worker and the next beat tick finish the sweep. The drill then checks
that every clock was warned once and breached once, that no event was recorded twice, and that every warn and
breach event had its handler run exactly once (the handler tasks lost with the killed worker are handed out
again by the sweep's backstop after SLA_REDISPATCH_MINUTES).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from stack import Stack, wait_until


def seed_due_clocks(count: int) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from accounts.models import Registration
    from saypro.sla.models import Clock, ClockState, Policy

    policy = Policy.objects.get(metric="registration.approval", is_default=True)
    now = timezone.now()
    started = now - timedelta(hours=50)
    due = started + policy.target
    target_type = ContentType.objects.get_for_model(Registration)
    Clock.objects.bulk_create(
        [
            Clock(
                metric="registration.approval",
                policy=policy,
                target_type=target_type,
                target_id=pk,
                state=ClockState.RUNNING,
                started_at=started,
                due_at=due,
                risk_at=started + policy.target * 0.75,
                next_check_at=started + policy.target * 0.75,
            )
            for pk in range(1, count + 1)
        ],
        batch_size=5000,
    )


def counts() -> dict[str, int]:
    from django.db.models import Count

    from saypro.sla.models import Clock, ClockEvent

    events = dict(ClockEvent.objects.filter(kind__in=["warn", "breach"]).values_list("kind").annotate(n=Count("pk")))
    return {
        "breached": Clock.objects.filter(breached_at__isnull=False).count(),
        "warn_events": events.get("warn", 0),
        "breach_events": events.get("breach", 0),
        "handled": ClockEvent.objects.filter(kind__in=["warn", "breach"], handled_at__isnull=False).count(),
    }


def duplicates() -> int:
    from django.db.models import Count

    from saypro.sla.models import ClockEvent

    return (
        ClockEvent.objects.filter(kind__in=["warn", "breach"])
        .values("clock_id", "kind")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=20_000)
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of clocks breached when the kill comes")
    parser.add_argument("--redispatch-minutes", type=int, default=1)
    args = parser.parse_args()

    with Stack("sweep", SLA_SWEEP_BATCH_SIZE="200", SLA_REDISPATCH_MINUTES=str(args.redispatch_minutes)) as stack:
        stack.django()
        from saypro.celery import app

        seed_due_clocks(args.clocks)
        print(f"{args.clocks:,} clocks past their 75 %, 90 % and 100 % points")

        stack.start_worker()
        started = time.monotonic()
        app.send_task("saypro.sla.tasks.sweep")
        wait_until(lambda: counts()["breached"] >= args.kill_at * args.clocks, timeout=600, what="partial sweep")
        stack.kill("worker")
        at_kill = counts()
        print(f"worker killed after {time.monotonic() - started:.1f} s: {at_kill}")
        assert duplicates() == 0, "an event was recorded twice before the kill"

        stack.start_worker("worker2")
        # The next beat tick: the sweep carries on from the stored deadlines.
        app.send_task("saypro.sla.tasks.sweep")
        wait_until(lambda: counts()["breached"] == args.clocks, timeout=900, what="the rest of the sweep")
        swept = time.monotonic() - started
        print(f"all {args.clocks:,} breached {swept:.1f} s after the first sweep started")

        # Handler tasks that died with the first worker come back through the backstop on a later tick.
        def all_handled() -> bool:
            app.send_task("saypro.sla.tasks.sweep")
            return counts()["handled"] == 2 * args.clocks

        wait_until(all_handled, timeout=args.redispatch_minutes * 60 + 600, interval=15, what="every handler")
        final = counts()
        print(f"final: {final}; duplicate events: {duplicates()}")
        assert final == {
            "breached": args.clocks,
            "warn_events": args.clocks,
            "breach_events": args.clocks,
            "handled": 2 * args.clocks,
        }, final
        assert duplicates() == 0
        print(f"PASS: nothing lost, nothing done twice ({time.monotonic() - started:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
