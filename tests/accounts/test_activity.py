"""Daily activity: counted in the cache on every call, flushed into one row per user and local day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts import activity, tasks
from accounts.models import ActivityDay, ActivityFlush, ActivityHour
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SAST = ZoneInfo("Africa/Johannesburg")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SAST)


def test_recording_touches_no_database(django_assert_num_queries):
    user = UserFactory()
    with django_assert_num_queries(0):
        for _ in range(20):
            activity.activity_record(user_id=user.pk, feature=activity.MESSAGE_SENT)
        activity.activity_record(user_id=user.pk, feature=activity.LISTING_POSTED)


def test_flush_writes_one_row_per_user_and_local_day_with_each_feature_counted():
    alice, bob = UserFactory(), UserFactory()
    for _ in range(3):
        activity.activity_record(user_id=alice.pk, feature=activity.MESSAGE_SENT, at=at(2, 9))
    activity.activity_record(user_id=alice.pk, feature=activity.SIGN_IN, at=at(2, 9, 30))
    activity.activity_record(user_id=alice.pk, feature=activity.TRANSACTION, at=at(2, 21))
    # 23:30 in Johannesburg is 21:30 UTC: still the 2nd locally.
    activity.activity_record(user_id=bob.pk, feature=activity.LISTING_POSTED, at=at(2, 23, 30))
    activity.activity_record(user_id=bob.pk, feature=activity.LISTING_POSTED, at=at(3, 0, 30))

    assert activity.activity_flush(settle_seconds=0) == 5

    alice_day = ActivityDay.objects.get(user=alice)
    assert (alice_day.day, alice_day.messages_sent, alice_day.sign_ins, alice_day.transactions) == (
        date(2026, 3, 2),
        3,
        1,
        1,
    )
    assert alice_day.listings_posted == alice_day.profile_updates == alice_day.password_changes == 0
    assert list(ActivityDay.objects.filter(user=bob).order_by("day").values_list("day", "listings_posted")) == [
        (date(2026, 3, 2), 1),
        (date(2026, 3, 3), 1),
    ]
    hours = dict(((row.day.day, row.hour), row.actions) for row in ActivityHour.objects.all())
    assert hours == {(2, 9): 4, (2, 21): 1, (2, 23): 1, (3, 0): 1}


def test_later_counts_are_added_to_the_same_row_and_nothing_is_counted_twice():
    user = UserFactory()
    activity.activity_record(user_id=user.pk, feature=activity.MESSAGE_SENT, at=at(2, 9))
    activity.activity_flush(settle_seconds=0)
    assert activity.activity_flush(settle_seconds=0) == 0
    activity.activity_record(user_id=user.pk, feature=activity.MESSAGE_SENT, at=at(2, 10))
    activity.activity_record(user_id=user.pk, feature=activity.PROFILE_UPDATE, at=at(2, 10))
    activity.activity_flush(settle_seconds=0)
    row = ActivityDay.objects.get()
    assert (row.messages_sent, row.profile_updates) == (2, 1)
    assert ActivityHour.objects.get(hour=10).actions == 2


def test_a_batch_is_applied_once_even_when_the_flush_runs_again_after_a_crash():
    user = UserFactory()
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=at(2, 9))
    batch = activity._current_batch()
    activity._seal_current(0)
    counts = activity._read_batch(batch)
    activity._apply(batch, counts)
    # The worker died before deleting the batch from the cache: the next flush finds it again.
    activity.activity_flush(settle_seconds=0)
    assert ActivityDay.objects.get().sign_ins == 1
    assert ActivityFlush.objects.filter(batch=batch).count() == 1


def test_the_batch_sealed_by_a_flush_waits_for_the_next_one_to_settle():
    user = UserFactory()
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=at(2, 9))
    assert activity.activity_flush(settle_seconds=60) == 0
    assert not ActivityDay.objects.exists()
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=at(2, 9))
    assert activity.activity_flush(settle_seconds=0) == 2
    assert ActivityDay.objects.get().sign_ins == 2


def test_counts_of_a_user_deleted_before_the_flush_are_dropped():
    user = UserFactory()
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=at(2, 9))
    user.delete()
    activity.activity_flush(settle_seconds=0)
    assert not ActivityDay.objects.exists()


def test_an_index_lost_between_its_creation_and_its_increment_still_counts_the_use(monkeypatch):
    """The batch's index size can vanish from the cache between add() and incr() (evicted, or the cache away for a
    moment): the use is still counted, and the request that made it does not fail."""
    user = UserFactory()
    incr = activity.cache.incr

    def incr_after_eviction(key, *args, **kwargs):
        if key.endswith(":n"):
            activity.cache.delete(key)
        return incr(key, *args, **kwargs)

    monkeypatch.setattr(activity.cache, "incr", incr_after_eviction)
    activity.activity_record(user_id=user.pk, feature=activity.SIGN_IN, at=at(4, 10))
    monkeypatch.undo()

    assert activity.activity_flush(settle_seconds=0) == 1
    assert ActivityDay.objects.get(user=user).sign_ins == 1


def test_an_unknown_feature_is_refused():
    with pytest.raises(activity.UnknownFeature):
        activity.activity_record(user_id=1, feature="listing_viewed")


def test_the_periodic_task_flushes():
    user = UserFactory()
    activity.activity_record(user_id=user.pk, feature=activity.LISTING_POSTED)
    tasks.activity_flush.delay(settle_seconds=0)
    assert ActivityDay.objects.get().listings_posted == 1
