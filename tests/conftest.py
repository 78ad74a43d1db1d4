"""Persona fixtures and the test-wide Celery mode.

Unit tests run Celery tasks in-process (eager) so that a service's side effects are visible in the same test;
tests marked `worker` run a real worker on the configured broker (Redis in CI, the filesystem transport locally).
"""

from __future__ import annotations

import gc
import importlib

import pytest
from django.conf import settings as django_settings
from django.core import mail
from pytest_django.plugin import blocking_manager_key

from accounts import roles
from saypro.celery import app as celery_app
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _celery_eager(request):
    eager = request.node.get_closest_marker("worker") is None
    celery_app.conf.task_always_eager = eager
    celery_app.conf.task_eager_propagates = eager
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Rate limits live in the cache; each test starts with none spent.

    With Redis configured the tests use it (as CI does); otherwise an in-memory cache, so that a developer's
    file cache is left alone. Cleared before each test only: the next test clears it anyway, and each test process
    has a cache of its own (a Redis database per xdist worker).
    """
    from django.core.cache import cache

    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def as_(client, request):
    """Sign the test client in as the named persona fixture: `as_("moderator").get(...)`."""

    def sign_in(persona: str):
        client.force_login(request.getfixturevalue(persona))
        return client

    return sign_in


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def reviewer(db):
    return UserFactory(email="reviewer@saypro.example", roles=[roles.REVIEWER])


@pytest.fixture
def agent(db):
    return UserFactory(email="agent@saypro.example", roles=[roles.SUPPORT_AGENT])


@pytest.fixture
def moderator(db):
    return UserFactory(email="moderator@saypro.example", roles=[roles.MODERATOR])


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@saypro.example", roles=[roles.MANAGER])


@pytest.fixture
def administrator(db):
    return UserFactory(email="admin@saypro.example", roles=[roles.ADMINISTRATOR])


@pytest.fixture
def outsider(db):
    """A signed-in staff account with no role."""
    user = UserFactory(email="outsider@saypro.example")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def user(db):
    """A marketplace user."""
    return UserFactory(email="member@example.com")


def pytest_collection_finish(session):
    """What collecting made (the modules, the test items, the API schema and its fuzz cases) lives for the whole run:
    frozen, the garbage collector stops walking it at every full collection, and a larger youngest generation makes
    collections rarer. The collector took about 8 % of a test process's CPU, and takes about 3 % this way."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@pytest.fixture(scope="session", autouse=True)
def _private_filesystem_broker(tmp_path_factory):
    """Without Redis, the filesystem broker gets folders of its own, so a developer's running worker cannot
    take the tests' tasks. Set once, at the start of the session, before any connection to the old folders exists."""
    if django_settings.REDIS_URL:
        return
    root = tmp_path_factory.mktemp("broker")
    folders = {name: root / name for name in ("out", "control", "processed")}
    for folder in folders.values():
        folder.mkdir()
    celery_app.conf.broker_transport_options = {
        **django_settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(folders["out"]),
        "data_folder_out": str(folders["out"]),
        "control_folder": str(folders["control"]),
        "processed_folder": str(folders["processed"]),
    }


@pytest.fixture(scope="session", autouse=True)
def _private_files(tmp_path_factory):
    """Uploads and text messages go to folders of the test session's own (each xdist worker has its own temporary
    directory), not to the developer's var/, and two test processes never write the same file."""
    from django.test import override_settings

    root = tmp_path_factory.mktemp("var")
    # override_settings, not an assignment: it tells the default storage that its folder changed.
    with override_settings(MEDIA_ROOT=str(root / "media"), SMS_FILE_PATH=str(root / "sms")):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_settings():
    """For the whole session, so that module-scoped fixtures (built before any per-test fixture) have them too:
    - the production password hasher is slow on purpose (about 0.26 s of CPU a user); tests only need a correct one;
    - automatic detection trains its spam model on first use from MODERATION_SPAM_CSV (seconds of work): tests run
      on the rules alone unless they ask for the model (tests/moderation's `spam_model` fixture).
    A test may still change either with the `settings` fixture."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"], MODERATION_SPAM_CSV=""):
        yield


# What a flush leaves: the content types and permissions, which the flush's post_migrate would otherwise insert again
# as they were (a flush took 60 ms instead of 130). No test adds or changes either.
FLUSH_KEEPS = {"django_content_type", "auth_permission"}


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """A transactional test ends with Django's flush, a TRUNCATE of every table: on PostgreSQL that makes new files
    for each of about a hundred tables and their indexes, 0.2 s to over 2 s a test when the disk is busy. The few
    rows a test leaves are deleted in milliseconds instead; every foreign key is deferred, so the order of the
    tables does not matter. A flush that also resets the sequences still truncates."""
    from unittest import mock

    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        emptied = [t for t in tables if t not in FLUSH_KEEPS]
        return [" ".join(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in emptied)]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    """With --reuse-db the test database outlives the run, and the last transactional test of the previous run
    flushed it: start from the rows the data migrations insert, as a freshly created database does."""
    if request.config.getoption("reuse_db") and not request.config.getoption("create_db"):
        with django_db_blocker.unblock():
            restore_reference_rows()


# Whether a transactional test ran in this process since the reference rows were last restored: its tear-down
# empties every table. pytest-django runs those tests after the others, but a test process that takes over part of
# another's queue (--dist worksteal) can run ordinary tests, and their module-scoped fixtures, after them.
_tables_emptied = False
TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "celery_worker_live"}


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    marked = marker is not None and marker.kwargs.get("transaction", False)
    return marked or bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture of an ordinary test that follows a transactional one: the reference rows again."""
    global _tables_emptied
    if _is_transactional(item):
        _tables_emptied = True
    elif _tables_emptied and "django_db_setup" in item.fixturenames:
        with item.config.stash[blocking_manager_key].unblock():
            restore_reference_rows()
        _tables_emptied = False


def restore_reference_rows() -> None:
    """restore_reference_data, and what the browser tests restore after each of them taken again from its rows."""
    restore_reference_data()
    # The reference rows came back with new ids: what serialized_rollback tests restore (the browser tests) must be
    # taken again from the restored rows, not from the ones before the flush.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if getattr(connection, "_test_serialized_contents", None) is not None:
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()  # type: ignore[attr-defined]


def restore_reference_data() -> None:
    """Empty every table and insert again what the data migrations insert (calendars, policies, roles)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
    insert_reference_rows()


def insert_reference_rows() -> None:
    """What the data migrations insert, in one transaction: row by row in autocommit, each insert would wait for a
    commit of its own to reach the disk."""
    from django.apps import apps as django_apps
    from django.db import transaction

    with transaction.atomic():
        for module, functions in REFERENCE_MIGRATIONS:
            migration = importlib.import_module(module)
            for name in functions:
                getattr(migration, name)(django_apps, None)


@pytest.fixture
def celery_worker_live(_private_filesystem_broker, transactional_db):
    """A real Celery worker, in threads of this process, consuming from the configured broker.

    On Redis it waits for a task a tenth of a second at a time instead of Kombu's second: stopping the worker at
    the end of the test waits for the wait under way to end, a second per test (the filesystem broker already
    polls that often)."""
    from celery.contrib.testing.worker import start_worker

    options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {**options, "polling_interval": 0.1}
    try:
        with start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20):
            yield
    finally:
        celery_app.conf.broker_transport_options = options


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy (a worker runs in another thread); fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("the worker did not finish in time")


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Re-create what data migrations insert (calendars, policies, roles) after a transactional test flushed it."""
    if not _is_transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    insert_reference_rows()


# Every data migration's rows. Each app's `create_roles` is left out: they all run the same accounts.roles.sync_roles,
# and figures' create_defaults (last) runs it once for all of them.
REFERENCE_MIGRATIONS = [
    ("saypro.sla.migrations.0002_default_calendar", ["create_always_calendar"]),
    ("accounts.migrations.0002_registration_policy_and_roles", ["create_policy"]),
    ("messaging.migrations.0002_policies_and_roles", ["create_policies"]),
    ("support.migrations.0002_reference_data", ["create_reference_data"]),
    ("marketplace.migrations.0002_categories_and_roles", ["create_categories"]),
    ("moderation.migrations.0002_decision_policy_roles_keywords", ["create_policy", "create_keywords"]),
    ("moderation.migrations.0005_appeal_deadline_policy", ["create_policy_and_clocks"]),
    ("saypro.figures.migrations.0002_document_targets_and_roles", ["create_defaults"]),
    ("support.migrations.0006_chat_first_response", ["create_defaults"]),
]
