"""Drill: the Celery worker is killed (SIGKILL) while it generates the quarterly report.

    .venv/bin/python bench/drills/report_worker_kill.py [--users 20000]

A scratch database gets seed_demo's quarter. A manager asks for the quarterly report; once the run has moved
past its first steps the worker and its pool are killed. A new worker is started, and the beat's recovery task
(run here by hand once REPORTS_STALLED_MINUTES, shortened to 1, has passed) queues the stalled run again. The
drill checks that the report is then generated exactly once: one run for the period, one generation, each file
present and matching its stored checksum.
"""

from __future__ import annotations

import argparse
import hashlib
import time

from stack import Stack, wait_until


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20_000)
    args = parser.parse_args()

    with Stack("report", SAYPRO_DEMO_MODE="1", REPORTS_STALLED_MINUTES="1") as stack:
        stack.manage("seed_demo", "--users", str(args.users), "--seed", "1", "-v", "0")
        stack.manage("ensure_staff")
        stack.django()
        from django.utils import timezone

        from accounts.models import User
        from reports import services
        from reports.models import ReportRun, RunStatus
        from saypro import periods
        from saypro.celery import app

        stack.start_worker()
        manager = User.objects.get(email="manager@saypro.example")
        # The quarter the demo data mostly falls in: the current one, up to today.
        quarter = periods.containing(periods.QUARTER, timezone.localdate())
        run = services.report_request(kind="quarterly", period=quarter, by=manager)
        started = time.monotonic()

        def generating() -> bool:
            run.refresh_from_db()
            return run.status == RunStatus.RUNNING and run.progress >= 10

        wait_until(generating, timeout=600, interval=0.1, what="the report to be generating")
        stack.kill("worker")
        run.refresh_from_db()
        print(f"worker killed {time.monotonic() - started:.1f} s in, at {run.progress} % ({run.step})")
        assert run.status == RunStatus.RUNNING and run.generations == 0

        stack.start_worker("worker2")
        time.sleep(62)  # past REPORTS_STALLED_MINUTES without a heartbeat
        recovered = app.send_task("reports.tasks.runs_recover")
        print(f"recovery task sent ({recovered.id})")

        def done() -> bool:
            run.refresh_from_db()
            return run.status == RunStatus.DONE

        wait_until(done, timeout=900, interval=1, what="the report to be generated")
        print(f"report ready {time.monotonic() - started:.1f} s after it was asked for")
        assert ReportRun.objects.filter(kind="quarterly", period_slug=quarter.slug).count() == 1
        assert run.generations == 1, run.generations
        for field in ("pdf", "xlsx", "csv"):
            stored = getattr(run, field)
            digest = hashlib.sha256(stored.read()).hexdigest()
            assert digest == getattr(run, f"{field}_sha256"), field
            print(f"{field}: {stored.size:,} bytes, checksum matches")
        print("PASS: generated once after the kill, files whole")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
