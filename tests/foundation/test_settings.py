"""A bad deployment value stops start-up with ImproperlyConfigured and names the variable.

Two tests start Django in a child process (the defaults; the Celery app's broker options with Redis) and one runs
the deploy checks there; the others evaluate the settings module in this process with a controlled environment
(`load_settings`): the module only reads the environment, so that proves the same as a child that imports every
app first.
"""

from __future__ import annotations

import json
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tests.foundation.support import child_env, load_settings, run_manage, run_python

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "ops.saypro.example",
}

# A started process: its Celery app takes the broker options from the settings (config_from_object).
START_UP = """
import json, django
django.setup()
from saypro.celery import app
print(json.dumps({"options": app.conf.broker_transport_options, "acks_late": app.conf.task_acks_late,
                  "reject_on_worker_lost": app.conf.task_reject_on_worker_lost}))
"""


def test_defaults_start_without_any_variable(tmp_path):
    result = run_python(START_UP, child_env(tmp_path))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe'"),
        ({"DATABASE_CONN_MAX_AGE": "x"}, "DATABASE_CONN_MAX_AGE='x'"),
        ({"REDIS_URL": "http://cache.internal:6379/0"}, "REDIS_URL='http://cache.internal:6379/0'"),
        ({"EMAIL_URL": "ftp://mail.saypro.example"}, "EMAIL_URL='ftp://mail.saypro.example'"),
        ({"SAYPRO_TIME_ZONE": "Mars/Base"}, "SAYPRO_TIME_ZONE='Mars/Base'"),
        ({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "ops.saypro.example"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "short", "DJANGO_ALLOWED_HOSTS": "x"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 64}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"SLA_SWEEP_BATCH_SIZE": "0"}, "SLA_SWEEP_BATCH_SIZE=0"),
        ({"DJANGO_BEHIND_PROXY": "many"}, "DJANGO_BEHIND_PROXY='many'"),
        ({"SUPPORT_CHAT_SOCKET_URL": "http://chat.saypro.example"}, "SUPPORT_CHAT_SOCKET_URL='http://chat"),
    ],
    ids=[
        "debug",
        "conn-max-age",
        "redis-scheme",
        "email-scheme",
        "time-zone",
        "no-secret",
        "short-secret",
        "no-hosts",
        "batch-size",
        "proxy-count",
        "chat-socket-scheme",
    ],
)
def test_bad_value_stops_start_up_with_a_message_naming_it(tmp_path, overrides, named):
    with pytest.raises(ImproperlyConfigured) as stopped:
        load_settings(child_env(tmp_path, **overrides))

    assert named in str(stopped.value)


def test_deploy_checks_pass_with_production_variables(tmp_path):
    env = child_env(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="ops.saypro.example",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://ops.saypro.example",
        SAYPRO_SITE_URL="https://ops.saypro.example",
        DJANGO_BEHIND_PROXY="1",
        EMAIL_URL="smtp://mailer:secret@smtp.saypro.example:587?tls=1",
    )

    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "demo_mode", "required"),
    [
        (PRODUCTION, False, True),
        ({}, True, False),
        ({**PRODUCTION, "SAYPRO_DEMO_MODE": "1"}, True, False),
        ({**PRODUCTION, "SAYPRO_STAFF_2FA_REQUIRED": "0"}, False, False),
        ({"SAYPRO_STAFF_2FA_REQUIRED": "1"}, True, True),
    ],
    ids=["production", "defaults", "production-demo", "production-opted-out", "demo-opted-in"],
)
def test_staff_two_factor_is_required_unless_the_demo_runs(tmp_path, overrides, demo_mode, required):
    settings = load_settings(child_env(tmp_path, **overrides))

    assert (settings["DEMO_MODE"], settings["STAFF_2FA_REQUIRED"]) == (demo_mode, required)


@pytest.mark.parametrize(
    ("value", "proxies"),
    [(None, 0), ("0", 0), ("off", 0), ("1", 1), ("true", 1), ("yes", 1), ("2", 2)],
)
def test_behind_proxy_is_a_count_of_trusted_proxies_that_drf_follows_too(tmp_path, value, proxies):
    settings = load_settings(child_env(tmp_path, DJANGO_BEHIND_PROXY=value))

    assert settings["BEHIND_PROXY"] == proxies
    assert settings["REST_FRAMEWORK"]["NUM_PROXIES"] == proxies
    assert bool(settings["SECURE_PROXY_SSL_HEADER"]) is (proxies > 0)


def test_a_started_worker_redelivers_a_dead_workers_tasks_within_minutes(tmp_path):
    """With Redis as the broker, a worker killed with kill -9 leaves its reserved tasks unacknowledged: Redis
    hands them out again after the visibility timeout, which must be minutes (Kombu's default is an hour). Here
    in a started process, as the Celery app reads it."""
    result = run_python(START_UP, child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/7"))

    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout.strip().splitlines()[-1])
    assert conf["options"]["visibility_timeout"] == 300
    assert conf["options"]["unacked_restore_throttle"] == 1
    assert conf["acks_late"] is True and conf["reject_on_worker_lost"] is True


@pytest.mark.parametrize(("overrides", "timeout"), [({}, 300), ({"CELERY_VISIBILITY_TIMEOUT": "120"}, 120)])
def test_a_task_reserved_by_a_dead_worker_goes_back_to_the_queue_within_minutes(tmp_path, overrides, timeout):
    settings = load_settings(child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/7", **overrides))

    assert settings["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] == timeout
    assert settings["CELERY_BROKER_TRANSPORT_OPTIONS"]["unacked_restore_throttle"] == 1
    assert settings["CELERY_TASK_ACKS_LATE"] is True and settings["CELERY_TASK_REJECT_ON_WORKER_LOST"] is True


def test_a_visibility_timeout_below_thirty_seconds_stops_start_up(tmp_path):
    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/7", CELERY_VISIBILITY_TIMEOUT="5")

    with pytest.raises(ImproperlyConfigured, match="CELERY_VISIBILITY_TIMEOUT=5"):
        load_settings(env)


@pytest.mark.parametrize(
    ("worker", "database"), [(None, "3"), ("gw0", "3"), ("gw1", "4"), ("gw4", "7")], ids=["alone", "gw0", "gw1", "gw4"]
)
def test_each_parallel_test_worker_has_a_redis_database_of_its_own(tmp_path, worker, database):
    """The tests flush the cache and run real Celery workers: two pytest-xdist workers must not share a database."""
    settings = load_settings(child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", PYTEST_XDIST_WORKER=worker))

    expected = f"redis://127.0.0.1:6379/{database}"
    assert [settings["CACHES"]["default"]["LOCATION"], settings["CELERY_BROKER_URL"]] == [expected, expected]


def test_a_test_worker_past_the_last_redis_database_stops_start_up(tmp_path):
    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/12", PYTEST_XDIST_WORKER="gw4")

    with pytest.raises(ImproperlyConfigured, match="would use Redis database 16"):
        load_settings(env)


def test_postgresql_connections_plan_without_jit_compilation(tmp_path):
    """The figures' aggregates over a quarter cost enough for PostgreSQL to JIT-compile them, which took longer than
    it saved: every PostgreSQL connection, the replica's too, turns it off. SQLite has no such option."""
    postgres = load_settings(
        child_env(
            tmp_path,
            DATABASE_URL="postgres://saypro@db.example:5432/saypro",
            DATABASE_REPLICA_URL="postgres://saypro@replica.example:5432/saypro",
        )
    )
    sqlite = load_settings(child_env(tmp_path))

    assert [db["OPTIONS"]["options"] for db in postgres["DATABASES"].values()] == ["-c jit=off", "-c jit=off"]
    assert "options" not in sqlite["DATABASES"]["default"]["OPTIONS"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
def test_the_live_postgresql_session_has_jit_off():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
