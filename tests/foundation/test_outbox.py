"""Redis away: work that should have been queued waits in the outbox and is sent when the broker is back;
the cache degrades to misses, so pages and the API keep serving."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from accounts.models import Registration, RegistrationStatus
from saypro.cache import DegradingRedisCache
from saypro.celery import app as celery_app
from saypro.outbox.models import OutboxMessage
from saypro.outbox.services import outbox_drain
from tests.accounts.helpers import SIGNUP
from tests.conftest import wait_for
from tests.foundation.support import closed_port


@pytest.fixture
def broker_down():
    """Point the producers at a port nothing listens on (a real refused connection), then back."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_transport, conf.broker_transport_options, conf.task_always_eager)

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    conf.broker_transport = None  # the embedded broker names its transport; the URL's scheme must choose here
    conf.broker_transport_options = {"socket_connect_timeout": 0.5}
    conf.task_always_eager = False
    reset_pools()

    def restore():
        conf.broker_url, conf.broker_transport, conf.broker_transport_options, conf.task_always_eager = saved
        reset_pools()

    yield restore
    restore()


@pytest.fixture
def dead_redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "saypro.cache.DegradingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_made_while_the_broker_is_down_is_screened_once_it_is_back(celery_worker_live, broker_down):
    response = APIClient().post("/api/v1/registrations/", {**SIGNUP, "email": "buyer@mailinator.com"}, format="json")

    assert response.status_code == 202
    stored = set(OutboxMessage.objects.values_list("task_name", flat=True))
    assert "accounts.tasks.screen_registration" in stored
    registration = Registration.objects.get()
    assert registration.status == RegistrationStatus.SCREENING

    broker_down()  # the broker is back
    assert outbox_drain() == len(stored)

    def screened():
        registration.refresh_from_db()
        return registration.status == RegistrationStatus.NEEDS_REVIEW

    wait_for(screened)
    assert not OutboxMessage.objects.exists()
    assert registration.signals.filter(code="disposable_email").count() == 1


@pytest.mark.django_db
def test_a_row_whose_publish_fails_again_stays_with_its_attempt_counted(broker_down):
    OutboxMessage.objects.create(task_name="accounts.tasks.screen_registration", args=[1])
    OutboxMessage.objects.create(task_name="accounts.tasks.screen_registration", args=[2])

    assert outbox_drain() == 0

    first, second = OutboxMessage.objects.order_by("pk")
    assert (first.attempts, second.attempts) == (1, 0)
    assert "OperationalError" in first.last_error or "Connection" in first.last_error


@pytest.mark.django_db
def test_a_row_naming_an_unknown_task_is_kept_and_does_not_block_the_others(broker_down):
    broker_down()  # the real broker (run in-process, as the unit tests run tasks): the second row is sent
    OutboxMessage.objects.create(task_name="no.such.task")
    OutboxMessage.objects.create(task_name="accounts.tasks.screen_registration", args=[404])

    assert outbox_drain(batch_size=1) == 1
    assert list(OutboxMessage.objects.values_list("task_name", flat=True)) == ["no.such.task"]


def test_the_cache_reads_as_empty_and_skips_writes_while_redis_is_away():
    cache = DegradingRedisCache(f"redis://127.0.0.1:{closed_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})

    assert isinstance(cache, RedisCache)
    assert cache.get("key", "fallback") == "fallback"
    cache.set("key", 1)
    assert cache.add("key", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    with pytest.raises(ValueError):
        cache.incr("key")


def test_the_cache_sends_every_command_through_one_client_per_connection_pool(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    cache = DegradingRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "one-client"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client

    # Shared by the threads of a worker (gthread), each command on a connection of its own from the pool.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda n: cache.set(f"key-{n}", n), range(40)))
    assert cache.get_many([f"key-{n}" for n in range(40)]) == {f"key-{n}": n for n in range(40)}
    cache.delete_many([f"key-{n}" for n in range(40)])


@pytest.mark.django_db
def test_sign_up_pages_and_health_keep_answering_while_the_redis_cache_is_away(dead_redis_cache, client):
    response = APIClient().post("/api/v1/registrations/", SIGNUP, format="json")
    assert response.status_code == 202

    assert client.get("/register/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["cache"] == "down"
