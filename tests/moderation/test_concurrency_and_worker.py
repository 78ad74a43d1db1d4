"""Races and real workers: two moderators at once, two first flags at once, detection by a Celery worker."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection

from marketplace import services as market
from marketplace.models import ListingStatus
from moderation import services
from moderation.models import Case, Decision, Detection, Flag
from saypro.sla.models import Clock
from tests.conftest import wait_for
from tests.factories import ListingFactory, UserFactory


def run_together(*calls):
    """Start the calls at the same instant in threads; return what each one said."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        barrier.wait()
        try:
            for _attempt in range(100):
                try:
                    call()
                    outcomes.append("done")
                    return
                except services.AlreadyDecided:
                    outcomes.append("refused")
                    return
                except OperationalError:
                    # SQLite refuses a concurrent writer instead of waiting; PostgreSQL waits on the row lock.
                    assert connection.vendor == "sqlite"
                    time.sleep(0.01)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_moderators_deciding_the_same_case_at_once_end_in_one_decision(moderator):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    listing = ListingFactory()
    services.flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason="fraud", comment="x")
    case = Case.objects.get()
    outcomes = run_together(
        lambda: services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam."),
        lambda: services.case_decide(case=case, by=second, action="keep", reason="Looks fine."),
    )
    assert sorted(outcomes) == ["done", "refused"]
    assert Decision.objects.count() == 1
    assert Clock.objects.get(target_id=case.pk, metric="moderation.decision").state == "stopped"
    listing.refresh_from_db()
    decision = Decision.objects.get()
    assert (listing.status == ListingStatus.REMOVED) == (decision.action == "remove")


@pytest.mark.django_db(transaction=True)
def test_two_first_flags_at_once_open_one_case():
    listing = ListingFactory()
    reporters = [UserFactory(), UserFactory()]
    outcomes = run_together(
        *[
            (lambda r=r: services.flag_create(reporter=r, kind="listing", object_id=listing.pk, reason="spam"))
            for r in reporters
        ]
    )
    assert outcomes == ["done", "done"]
    assert Case.objects.count() == 1 and Flag.objects.count() == 2
    assert Case.objects.get().flag_count == 2
    assert Clock.objects.filter(metric="moderation.decision").count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_detection_after_the_listing_is_saved(celery_worker_live):
    seller = UserFactory()
    listing = market.listing_create(
        seller=seller,
        title="iPhone 14 Pro Max sealed",
        description="Pay a deposit via Western Union and my shipping agent delivers. WhatsApp 071 123 4567.",
        price="3000",
        currency="ZAR",
        category="phones",
        region="Gauteng",
    )
    detection = wait_for(lambda: Detection.objects.filter(object_id=listing.pk, kind="listing").first())
    assert detection.level == "high"
    wait_for(lambda: Case.objects.filter(object_id=listing.pk, hidden_at__isnull=False).exists())
    listing.refresh_from_db()
    assert listing.status == ListingStatus.PENDING_REVIEW
