"""How long a finished scheduled report takes to reach N subscribers, and how many queries it costs.

    .venv/bin/python bench/report_delivery_bench.py [--subscribers 500]

On a scratch PostgreSQL database and a private Redis, N managers subscribe to the monthly report; one scheduled
run is generated in this process, then `report_deliver` (what the `report_deliver` task runs) sends the e-mails
through Django's file backend, as a worker would: once with the PDF attached (each e-mail reads the report's
stored file), once more with the PDF over the size limit (each e-mail a signed link). Between the two the
delivery rows are removed, so the second pass sends again. Finally the reconciliation sweep runs twice over the
delivered run: it must find nothing to do.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "drills"))

from stack import Stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=500)
    args = parser.parse_args()

    with Stack("deliverbench") as stack:
        stack.django()
        from django.conf import settings
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts import roles
        from reports import services
        from reports.models import ReportRun, ReportSubscription
        from saypro import periods
        from saypro.outbox.followups import followups_reconcile
        from saypro.outbox.models import MailDelivery
        from tests.factories import UserFactory

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding only
        managers = [
            UserFactory(email=f"manager{n}@saypro.example", roles=[roles.MANAGER]) for n in range(args.subscribers)
        ]
        ReportSubscription.objects.bulk_create(ReportSubscription(user=user, kind="monthly") for user in managers)
        followups_reconcile(now=timezone.now() - timedelta(minutes=1))
        month = periods.containing(periods.MONTH, date(2026, 2, 1))
        run = services.report_request(kind="monthly", period=month, by=None, scheduled=True)
        # The delivery task this publishes is never consumed (no worker): the bench delivers in this process.
        services.report_generate(run_id=run.pk)
        run.refresh_from_db()
        mail_dir = Path(settings.EMAIL_FILE_PATH)

        def deliver(label: str) -> None:
            ReportRun.objects.filter(pk=run.pk).update(delivered_generation=0)
            MailDelivery.objects.all().delete()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                sent = services.report_deliver(run_id=run.pk)
                seconds = time.perf_counter() - started
            assert sent == args.subscribers, sent
            written = sum(path.stat().st_size for path in mail_dir.glob("*"))
            print(
                f"{label}: {sent} e-mails in {seconds:.2f} s ({seconds / sent * 1000:.1f} ms each), "
                f"{len(queries)} queries ({len(queries) / sent:.2f} per e-mail), {written / 1e6:.1f} MB written"
            )
            for path in mail_dir.glob("*"):
                path.unlink()

        print(f"PDF: {run.pdf.size / 1e3:.0f} kB; load average before: {os.getloadavg()}")
        deliver("PDF attached")
        settings.REPORTS_MAIL_ATTACH_MAX_BYTES = 1
        deliver("signed link  ")
        later = timezone.now() + timedelta(minutes=30)
        swept = [followups_reconcile(now=later)["reports.undelivered"] for _ in range(2)]
        assert swept == [0, 0], swept
        print(f"sweep over the delivered run, twice: {swept}; load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
