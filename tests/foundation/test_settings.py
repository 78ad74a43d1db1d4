"""A bad deployment value stops start-up with ImproperlyConfigured and names the variable."""

from __future__ import annotations

import secrets

import pytest

from tests.foundation.support import child_env, run_manage, run_python

SETUP = "import django; django.setup()"
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "ops.saypro.example",
}


def test_defaults_start_without_any_variable(tmp_path):
    result = run_python(SETUP, child_env(tmp_path))

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
    result = run_python(SETUP, child_env(tmp_path, **overrides))

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert named in last_line


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
    code = f"{SETUP}; from django.conf import settings; print(settings.DEMO_MODE, settings.STAFF_2FA_REQUIRED)"
    result = run_python(code, child_env(tmp_path, **overrides))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(demo_mode), str(required)]


@pytest.mark.parametrize(
    ("value", "proxies"),
    [(None, 0), ("0", 0), ("off", 0), ("1", 1), ("true", 1), ("yes", 1), ("2", 2)],
)
def test_behind_proxy_is_a_count_of_trusted_proxies_that_drf_follows_too(tmp_path, value, proxies):
    code = (
        f"{SETUP}; from django.conf import settings; "
        "print(settings.BEHIND_PROXY, settings.REST_FRAMEWORK['NUM_PROXIES'], bool(settings.SECURE_PROXY_SSL_HEADER))"
    )
    result = run_python(code, child_env(tmp_path, DJANGO_BEHIND_PROXY=value))

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(proxies), str(proxies), str(proxies > 0)]


VISIBILITY = """
import json, django
django.setup()
from saypro.celery import app
print(json.dumps({"options": app.conf.broker_transport_options, "acks_late": app.conf.task_acks_late,
                  "reject_on_worker_lost": app.conf.task_reject_on_worker_lost}))
"""


@pytest.mark.parametrize(("overrides", "timeout"), [({}, 300), ({"CELERY_VISIBILITY_TIMEOUT": "120"}, 120)])
def test_a_task_reserved_by_a_dead_worker_goes_back_to_the_queue_within_minutes(tmp_path, overrides, timeout):
    """With Redis as the broker, a worker killed with kill -9 leaves its reserved tasks unacknowledged: Redis
    hands them out again after the visibility timeout, which must be minutes (Kombu's default is an hour)."""
    import json

    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/7", **overrides)
    result = run_python(VISIBILITY, env)

    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout.strip().splitlines()[-1])
    assert conf["options"]["visibility_timeout"] == timeout
    assert conf["options"]["unacked_restore_throttle"] == 1
    assert conf["acks_late"] is True and conf["reject_on_worker_lost"] is True


def test_a_visibility_timeout_below_thirty_seconds_stops_start_up(tmp_path):
    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/7", CELERY_VISIBILITY_TIMEOUT="5")
    result = run_python(SETUP, env)

    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT=5" in result.stderr


BROKER_AND_CACHE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps([settings.CACHES["default"]["LOCATION"], settings.CELERY_BROKER_URL]))
"""


@pytest.mark.parametrize(
    ("worker", "database"), [(None, "3"), ("gw0", "3"), ("gw1", "4"), ("gw4", "7")], ids=["alone", "gw0", "gw1", "gw4"]
)
def test_each_parallel_test_worker_has_a_redis_database_of_its_own(tmp_path, worker, database):
    """The tests flush the cache and run real Celery workers: two pytest-xdist workers must not share a database."""
    import json

    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", PYTEST_XDIST_WORKER=worker)
    result = run_python(BROKER_AND_CACHE, env)

    assert result.returncode == 0, result.stderr
    expected = f"redis://127.0.0.1:6379/{database}"
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [expected, expected]


def test_a_test_worker_past_the_last_redis_database_stops_start_up(tmp_path):
    env = child_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/12", PYTEST_XDIST_WORKER="gw4")
    result = run_python(SETUP, env)

    assert result.returncode != 0
    assert "would use Redis database 16" in result.stderr.strip().splitlines()[-1]
