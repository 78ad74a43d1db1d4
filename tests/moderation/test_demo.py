"""The marketplace and moderation demo phases: a quarter that the product's own rules would have produced."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from demo import core as demo
from marketplace.models import Listing, ListingStatus, Transaction
from moderation.models import Action, Appeal, Case, CaseStatus, Decision, Detection, Fingerprint, Flag, Strike
from saypro.sla.models import Clock

pytestmark = pytest.mark.django_db

PHASES = [demo.SIGNUPS, "demo.marketplace.marketplace_phase", "demo.moderation.moderation_phase"]
END = date(2025, 7, 1)


def seed(users: int = 1500, seed: int = 3):
    return demo.seed(users=users, seed=seed, end=END, phases=PHASES, batch_size=500)


def fingerprint_of_data() -> tuple:
    return (
        Listing.objects.count(),
        Transaction.objects.count(),
        tuple(Counter(Case.objects.values_list("status", flat=True)).most_common()),
        tuple(Counter(Decision.objects.values_list("action", flat=True)).most_common()),
        Flag.objects.count(),
        Strike.objects.count(),
        Appeal.objects.count(),
    )


def test_the_quarter_is_realistic_and_consistent():
    ctx = seed()
    period = ctx.period
    listings = Listing.objects.count()
    assert listings > 300 and Detection.objects.count() == listings == Fingerprint.objects.count()
    assert Transaction.objects.filter(status="completed").exists()
    assert Listing.objects.filter(created_at__lt=period.start).count() == 0
    cases = Case.objects.count()
    assert cases > 10 and Case.objects.filter(source="automatic").exists()
    # One clock per case, started at the first flag; decided cases' clocks are stopped at the decision.
    clocks = {c.target_id: c for c in Clock.objects.filter(metric="moderation.decision")}
    assert len(clocks) == cases
    for case in Case.objects.select_related("decision"):
        clock = clocks[case.pk]
        assert clock.started_at == case.opened_at
        if case.status == CaseStatus.DECIDED:
            assert clock.state == "stopped" and clock.stopped_at == case.decision.at
            assert clock.met == (case.decision.at <= clock.due_at)
    met = Clock.objects.filter(metric="moderation.decision", met=True).count()
    late = Clock.objects.filter(metric="moderation.decision", met=False).count()
    assert met > 5 * late  # most within 12 h, a few late
    # Removals took the listing down unless reversed on appeal; strikes only for the striking actions.
    for decision in Decision.objects.select_related("case"):
        status = Listing.objects.get(pk=decision.case.object_id).status
        if decision.action != Action.KEEP and decision.reversed_at is None:
            assert status == ListingStatus.REMOVED
        assert Strike.objects.filter(decision=decision).exists() == (
            decision.action in (Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER)
        )
    # Every appeal runs on its own deadline from filing; a decided appeal's clock stopped at the decision.
    appeal_clocks = {c.target_id: c for c in Clock.objects.filter(metric="moderation.appeal")}
    assert Appeal.objects.exists() and len(appeal_clocks) == Appeal.objects.count()
    for appeal in Appeal.objects.select_related("decision"):
        assert appeal.decided_by_id != appeal.decision.by_id
        assert appeal.created_at <= appeal.decision.at + timedelta(days=14)
        clock = appeal_clocks[appeal.pk]
        assert clock.started_at == appeal.created_at
        if appeal.status == Appeal.Status.PENDING:
            assert clock.state != "stopped"
        else:
            assert clock.state == "stopped" and clock.stopped_at == appeal.decided_at
    # Flags never come after the decision of their round.
    for flag in Flag.objects.select_related("case__decision").filter(case__status=CaseStatus.DECIDED):
        assert flag.created_at <= flag.case.decision.at


def test_the_same_seed_gives_the_same_quarter():
    seed(users=600)
    first = fingerprint_of_data()
    for model in (Appeal, Strike, Flag, Decision, Case, Detection, Fingerprint, Transaction, Listing):
        model.objects.all().delete()
    from accounts.models import User

    User.objects.filter(is_staff=False).delete()
    seed(users=600)
    assert fingerprint_of_data() == first


def test_the_near_duplicate_replay_compares_at_most_as_many_texts_as_the_live_lookup(monkeypatch):
    """Templated demo listings share their buckets; comparing every earlier one would take the square of the
    listings. The replay stops where the live lookup does, at MAX_CANDIDATES, starting from the newest."""
    from array import array
    from collections import defaultdict
    from datetime import datetime
    from types import SimpleNamespace

    from demo.moderation import ModerationSimulator
    from demo.moderation.simulator import Recent
    from moderation import fingerprints

    monkeypatch.setattr(fingerprints, "MAX_CANDIDATES", 5)
    compared: list[list[int]] = []
    similarity = fingerprints.similarity
    monkeypatch.setattr(fingerprints, "similarity", lambda a, b: compared.append(b) or similarity(a, b))

    text = "Mountain bike, 21 speed, new tyres, collection in Sandton only"
    start = datetime(2025, 6, 1, tzinfo=fingerprints.timezone.get_current_timezone())
    signature = fingerprints.signature(text)
    sim = ModerationSimulator.__new__(ModerationSimulator)
    sim.recent = {n: Recent(start + timedelta(minutes=n), n, array("q", signature)) for n in range(19)}
    buckets: defaultdict = defaultdict(list)
    for pk in range(19):
        for band, value in enumerate(fingerprints.bands(signature)):
            buckets[(band, value)].append(pk)
    listing = SimpleNamespace(pk=19, seller_id=19, created_at=start + timedelta(minutes=19))

    findings = sim.duplicate_findings(listing, signature, buckets)

    # The five newest earlier listings, each once although it shares every band.
    assert [id(other) for other in compared] == [id(sim.recent[pk].signature) for pk in (18, 17, 16, 15, 14)]
    assert [(f.code, f.detail) for f in findings] == [("duplicate", "100% like another user's listing")]


def test_a_moderator_sees_the_demo_listing_photos_as_real_pictures(as_):
    from io import BytesIO

    from PIL import Image

    seed(users=400)
    case = Case.objects.filter(kind="listing").order_by("pk").first()
    assert case is not None
    listing = Listing.objects.get(pk=case.object_id)
    client = as_("moderator")

    page = client.get(f"/dashboard/moderation/cases/{case.pk}/")
    assert page.status_code == 200
    assert f'src="/dashboard/moderation/cases/{case.pk}/images/1/"' in page.content.decode()
    for index, key in enumerate(listing.images):
        assert key.startswith("listings/demo/")
        response = client.get(f"/dashboard/moderation/cases/{case.pk}/images/{index}/")
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        picture = Image.open(BytesIO(b"".join(response.streaming_content)))
        assert picture.format == "JPEG" and picture.size == (400, 400)


def test_reposts_of_removed_scams_are_held_and_recorded_across_replay_batches():
    """The replay writes batch by batch: a repost days after its removed original (an earlier batch) is still
    held, and the original's decision, written before, records when the copy came back."""
    demo.seed(users=1500, seed=3, end=END, phases=PHASES, batch_size=20)
    held = Detection.objects.filter(signals__code="recurrence").values_list("object_id", flat=True)
    reposts = Listing.objects.filter(pk__in=held)
    assert reposts.exists()
    first = Listing.objects.order_by("pk").values_list("pk", flat=True)[0]
    removed: dict[tuple[str, str], list[tuple[Listing, Decision]]] = {}
    for decision in Decision.objects.exclude(action=Action.KEEP).select_related("case"):
        listing = Listing.objects.get(pk=decision.case.object_id)
        removed.setdefault((listing.title, listing.description), []).append((listing, decision))
    crossed = 0
    for repost in reposts:
        originals = [
            (listing, decision)
            for listing, decision in removed[(repost.title, repost.description)]
            if listing.pk < repost.pk and decision.at < repost.created_at and decision.recurred_at is not None
        ]
        assert originals and all(d.recurred_at <= repost.created_at + timedelta(seconds=8) for _, d in originals)
        crossed += any((repost.pk - first) // 20 > (listing.pk - first) // 20 for listing, _ in originals)
    assert crossed  # at least one original was written in an earlier batch than its repost
