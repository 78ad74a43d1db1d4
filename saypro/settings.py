"""SayPro Ops settings: one module, every deployment knob an environment variable.

Each variable has a safe embedded default for a developer's machine (SQLite, a broker that needs no
server, e-mail to files). A malformed value raises ImproperlyConfigured at start-up, not later.
"""

from __future__ import annotations

import os
import re
import sys
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse, urlunparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SAYPRO_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_proxy_count(name: str) -> int:
    """How many reverse proxies stand in front of the app: a count, or a boolean (on = one proxy, the compose
    setting) as the variable was first documented."""
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return 0
    if raw in {"true", "yes", "on"}:
        return 1
    if raw.isdigit() and int(raw) <= 5:
        return int(raw)
    raise ImproperlyConfigured(f"{name}={raw!r} is not a number of proxies (0 to 5) or a boolean.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Translate EMAIL_URL (console://, file:///dir, locmem://, smtp[s]://user:pass@host:port) into settings."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        path = Path(unquote(parsed.path)) if parsed.path else VAR_DIR / "mail"
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(path)}
    if scheme in {"smtp", "smtps"}:
        if not parsed.hostname:
            raise ImproperlyConfigured(f"EMAIL_URL={url!r} has no host.")
        query = parse_qs(parsed.query)
        try:
            port = parsed.port or (465 if scheme == "smtps" else 25)
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL={url!r} has a bad port.") from None
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname,
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true", "yes"},
        }
    raise ImproperlyConfigured(f"EMAIL_URL={url!r}: the scheme must be console, locmem, file, smtp or smtps.")


def redis_url_of_test_worker(url: str, worker: str) -> str:
    """The Redis URL of one pytest-xdist worker (`gw0`, `gw1`, …): the configured database number plus the
    worker's index. The tests flush the cache's database and worker-marked tests run a real Celery worker on the
    broker, so two test processes sharing a database would wipe each other's keys and take each other's tasks."""
    if not url or not worker:
        return url
    parsed = urlparse(url)
    try:
        index = int(worker.removeprefix("gw"))
        base = int(parsed.path.strip("/") or 0)
    except ValueError:
        raise ImproperlyConfigured(f"REDIS_URL={url!r} / PYTEST_XDIST_WORKER={worker!r}: no database number.") from None
    # A Redis server has databases 0–15 unless configured otherwise.
    if base + index > 15:
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r}: test worker {worker} would use Redis database {base + index}; "
            "run fewer test workers (pytest -n) or start from a lower database number."
        )
    return urlunparse(parsed._replace(path=f"/{base + index}"))


# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = _DEV_SECRET
elif len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env_str("SAYPRO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "saypro.sla",
    "saypro.audit",
    "saypro.ml",
    "saypro.outbox",
    "saypro.retention",
    "saypro.figures",
    "accounts",
    "marketplace",
    "messaging",
    "support",
    "moderation",
    "reports",
    # The demo-data generator (`manage.py seed_demo`): the top floor, it may use every app and nothing imports it.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "saypro.security.content_security_policy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "saypro.request_guards.refuse_nul_characters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.AccountSecurityMiddleware",
    "saypro.replica.replica_reads",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "saypro.urls"
WSGI_APPLICATION = "saypro.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend, each user's permissions kept in the cache between requests (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password-reset links: signed, single-use (they stop working once the password changes) and expiring.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_HOURS", 2, minimum=1) * 3600
OTP_TOTP_ISSUER = "SayPro"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "saypro.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The web server, the worker and beat share one SQLite file: wait for a lock instead of failing. A deferred
    # transaction that reads and then writes fails at once when another connection holds the write lock (the busy
    # timeout does not apply to it), so every transaction takes the write lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: the worker and live-server threads then wait on the busy timeout
    # instead of failing at once with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL streaming replica for the reads that may lag a few seconds (saypro.replica): area pages, the
# metrics API, report documents and rollups. Unset, everything reads the primary. Tests use the primary for it.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    try:
        DATABASES["replica"] = dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0)
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a valid database URL: {exc}") from None
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation of plans: the figures' aggregates over a quarter cost enough to trigger it, and
        # compiling took longer than it saved (2 of 18 s of the quarterly report at 1,000,000 users).
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASE_ROUTERS = ["saypro.replica.ReplicaRouter"]
REPLICA_READ_PATHS = ["/dashboard/areas/", "/api/v1/metrics/"]
REPLICA_READ_TASKS = ["reports.tasks.report_generate", "reports.tasks.rollups_refresh"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, Celery --------------------------------------------------------------------
# Under pytest-xdist, each test worker process uses a Redis database of its own (see above).
REDIS_URL = redis_url_of_test_worker(env_str("REDIS_URL", ""), os.environ.get("PYTEST_XDIST_WORKER", ""))
# Seconds before Redis redelivers a task whose worker never acknowledged it (see below).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=30)
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    if urlparse(REDIS_URL).scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis:// or rediss://.")
    CACHES = {
        "default": {
            "BACKEND": "saypro.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Short socket timeouts: with Redis away, a publish fails fast into the outbox instead of hanging a request.
    # The visibility timeout is how long a task reserved by a worker that died (kill -9, out of memory) waits
    # before Redis hands it out again: minutes, not Kombu's hour. A task still running past it is delivered a
    # second time, which is safe because every task claims its work (tests/foundation/test_tasks_twice.py).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Each worker looks for such tasks every 10 s (Kombu's default scans only every tenth time, ~100 s).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    # A file cache is shared by the web server and the worker (rate limits, activity counters).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "saypro.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    for _sub in ("out", "control", "processed"):
        os.makedirs(BROKER_DIR / _sub, exist_ok=True)
# Live chat's WebSocket consumers talk through a channel layer: Redis wherever REDIS_URL is set (every ASGI
# process sees every event); otherwise Channels' in-memory layer, which only reaches consumers in the same process,
# so `make run` serves WebSockets from a single ASGI process.
CHANNEL_LAYERS: dict[str, dict[str, object]] = (
    {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
ASGI_APPLICATION = "saypro.asgi.application"
# The sweep has a queue of its own: after an outage, a flood of warning e-mails queued on "celery" must not hold
# back the next sweeps. A worker consumes every queue listed here unless started with -Q.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("sla"))
CELERY_TASK_ROUTES = {"saypro.sla.tasks.sweep": {"queue": "sla"}}
# One quick retry, then the outbox: with Redis away, a request should not spend seconds retrying each publish.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Auth, i18n, static ------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en"
TIME_ZONE = env_str("SAYPRO_TIME_ZONE", "Africa/Johannesburg")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"SAYPRO_TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
# The product speaks English only and ships no translations. With translation on, every date, duration and
# "3 hours ago" a page prints went through Django's per-request translation lookup: a queue page of 50 rows took
# about a sixth longer. Formats still come from FORMAT_MODULE_PATH.
USE_I18N = False
USE_TZ = True
# One date and time format everywhere (pages, admin, e-mails); the locale module makes it win over Django's English.
FORMAT_MODULE_PATH = ["saypro.formats"]
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M, H:i"
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("SAYPRO_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", f"file://{VAR_DIR / 'mail'}")
globals().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SayPro Ops <ops@saypro.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- SMS --------------------------------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "accounts.sms.FileSmsBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 5, minimum=1)
if SMS_BACKEND.endswith("HttpGatewaySmsBackend") and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("SMS_GATEWAY_URL must be set when SMS_BACKEND is the HTTP gateway.")

# --- Product knobs ----------------------------------------------------------------------------
# Registrations from the same IP (and /24 subnet) within an hour before the velocity signal fires.
REGISTRATION_IP_VELOCITY = env_int("REGISTRATION_IP_VELOCITY", 3, minimum=1)
REGISTRATION_SUBNET_VELOCITY = env_int("REGISTRATION_SUBNET_VELOCITY", 10, minimum=1)
# Risk score at or above which a registration always goes to a reviewer.
REGISTRATION_REVIEW_THRESHOLD = env_int("REGISTRATION_REVIEW_THRESHOLD", 30, minimum=1)
# A form submitted faster than this (seconds after it was served) is probably a bot.
REGISTRATION_MIN_FORM_SECONDS = env_int("REGISTRATION_MIN_FORM_SECONDS", 3)
# Hours a low-risk applicant has to finish verification before a reviewer takes over.
REGISTRATION_VERIFICATION_GRACE_HOURS = env_int("REGISTRATION_VERIFICATION_GRACE_HOURS", 12, minimum=1)
# Seconds a reviewer can take a registration decision back; the applicant is e-mailed only once they are over.
REGISTRATION_UNDO_SECONDS = env_int("REGISTRATION_UNDO_SECONDS", 10, minimum=1)
EMAIL_VERIFICATION_MAX_AGE_HOURS = env_int("EMAIL_VERIFICATION_MAX_AGE_HOURS", 72, minimum=1)
SLA_SWEEP_BATCH_SIZE = env_int("SLA_SWEEP_BATCH_SIZE", 500, minimum=1)
# Minutes after which a warning or breach whose handler never ran is handed to a worker again.
SLA_REDISPATCH_MINUTES = env_int("SLA_REDISPATCH_MINUTES", 10, minimum=1)
# Reports: days the rollup task recomputes on each run (late changes included), and the staffing assumption
# (items one person decides per hour) behind the staff-hours recommendations.
REPORTS_ROLLUP_RECENT_DAYS = env_int("REPORTS_ROLLUP_RECENT_DAYS", 7, minimum=1)
REPORTS_ITEMS_PER_STAFF_HOUR = env_int("REPORTS_ITEMS_PER_STAFF_HOUR", 12, minimum=1)
# Minutes without a progress step after which a generating report is taken to have lost its worker.
REPORTS_STALLED_MINUTES = env_int("REPORTS_STALLED_MINUTES", 10, minimum=1)
# A subscriber's e-mail carries the PDF up to this size; a larger one is a signed link, valid this many days,
# that downloads it without signing in (many mail servers refuse messages much over 10 MB).
REPORTS_MAIL_ATTACH_MAX_BYTES = env_int("REPORTS_MAIL_ATTACH_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
REPORTS_LINK_DAYS = env_int("REPORTS_LINK_DAYS", 7, minimum=1)
# The reconciliation sweep (saypro.outbox.followups): work accepted more than FOLLOWUP_GRACE_MINUTES ago whose
# follow-up (screening, detection, triage, acknowledgement, report) has not happened is handed to a worker again,
# at most once per FOLLOWUP_RETRY_MINUTES and FOLLOWUP_MAX_ATTEMPTS times per item.
FOLLOWUP_GRACE_MINUTES = env_int("FOLLOWUP_GRACE_MINUTES", 10, minimum=1)
FOLLOWUP_RETRY_MINUTES = env_int("FOLLOWUP_RETRY_MINUTES", 30, minimum=1)
FOLLOWUP_MAX_ATTEMPTS = env_int("FOLLOWUP_MAX_ATTEMPTS", 5, minimum=1)
FOLLOWUP_BATCH_SIZE = env_int("FOLLOWUP_BATCH_SIZE", 500, minimum=1)
# Days back the sweep looks for work without a follow-up (an acknowledgement a week late helps nobody).
FOLLOWUP_LOOKBACK_DAYS = env_int("FOLLOWUP_LOOKBACK_DAYS", 3, minimum=1)
# A failed e-mail is tried again this many times (beat, every few minutes) before it is left to staff.
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 5, minimum=1)
DEMO_MODE = env_bool("SAYPRO_DEMO_MODE", DEBUG)
# Sign-in security: failures per address within the window before a lockout of ACCOUNT_LOCKOUT_MINUTES, and
# the distinct addresses failing from one IP within the window that flag credential stuffing.
ACCOUNT_LOCKOUT_FAILURES = env_int("ACCOUNT_LOCKOUT_FAILURES", 5, minimum=1)
ACCOUNT_LOCKOUT_WINDOW_MINUTES = env_int("ACCOUNT_LOCKOUT_WINDOW_MINUTES", 15, minimum=1)
ACCOUNT_LOCKOUT_MINUTES = env_int("ACCOUNT_LOCKOUT_MINUTES", 30, minimum=1)
ACCOUNT_STUFFING_ACCOUNTS = env_int("ACCOUNT_STUFFING_ACCOUNTS", 5, minimum=2)
# Failed sign-ins from one client address within the window before sign-in from it pauses until the window ends
# (password spraying), and from one /24 network once credential stuffing was detected from it.
ACCOUNT_IP_FAILURES = env_int("ACCOUNT_IP_FAILURES", 20, minimum=1)
ACCOUNT_NETWORK_FAILURES = env_int("ACCOUNT_NETWORK_FAILURES", 20, minimum=1)
# Two-factor sign-in for the staff roles that decide (administrators, reviewers, moderators): on in production,
# off in the demo.
STAFF_2FA_REQUIRED = env_bool("SAYPRO_STAFF_2FA_REQUIRED", not DEMO_MODE)
# The privacy policy and terms of use versions users consent to; consent to an older version is asked again.
PRIVACY_POLICY_VERSION = env_str("SAYPRO_PRIVACY_POLICY_VERSION", "2026-01")
TERMS_VERSION = env_str("SAYPRO_TERMS_VERSION", "2026-01")
# Moderation: the labelled CSV (text, label = spam/ham) the spam classifier is trained on when none exists yet.
MODERATION_SPAM_CSV = env_str("MODERATION_SPAM_CSV", str(BASE_DIR.parent / "shared" / "data" / "spam_train.csv"))
# Messaging: the classifier's confidence (in %) below which an agent sets the category (for a model version
# trained on too few examples to choose its own threshold on a validation set), users' messages per hour, and the
# days a conversation may wait on the user before it is resolved automatically.
MESSAGING_CATEGORY_MIN_CONFIDENCE = env_int("MESSAGING_CATEGORY_MIN_CONFIDENCE", 60, minimum=0) / 100
MESSAGING_USER_MESSAGES_PER_HOUR = env_int("MESSAGING_USER_MESSAGES_PER_HOUR", 20, minimum=1)
MESSAGING_AUTO_RESOLVE_DAYS = env_int("MESSAGING_AUTO_RESOLVE_DAYS", 7, minimum=1)
# A labelled CSV (Bitext `intent` column) the weekly retraining of the category classifier starts from.
MESSAGING_CATEGORY_BOOTSTRAP_CSV = env_str("MESSAGING_CATEGORY_BOOTSTRAP_CSV", "")
# Support: live chat opening hours ("HH:MM-HH:MM", local to SUPPORT_LIVE_CHAT_TIME_ZONE) and ticket behaviour.
SUPPORT_LIVE_CHAT_HOURS = env_str("SUPPORT_LIVE_CHAT_HOURS", "08:00-22:00")
SUPPORT_LIVE_CHAT_TIME_ZONE = env_str("SUPPORT_LIVE_CHAT_TIME_ZONE", TIME_ZONE)
try:
    zoneinfo.ZoneInfo(SUPPORT_LIVE_CHAT_TIME_ZONE)
    _chat_open, _chat_close = (
        tuple(int(part) for part in bound.strip().split(":")) for bound in SUPPORT_LIVE_CHAT_HOURS.split("-")
    )
    if not (len(_chat_open) == len(_chat_close) == 2 and (0, 0) <= _chat_open < _chat_close <= (24, 0)):
        raise ValueError
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"SUPPORT_LIVE_CHAT_HOURS={SUPPORT_LIVE_CHAT_HOURS!r} / SUPPORT_LIVE_CHAT_TIME_ZONE="
        f"{SUPPORT_LIVE_CHAT_TIME_ZONE!r}: use e.g. 08:00-22:00 and a known time zone."
    ) from None
# Where the agents' chat panel opens its WebSockets ("ws[s]://host[:port]"): empty means the page's own host, as
# behind the proxy that sends /ws/ to daphne; `make run` serves them from daphne on the next port.
SUPPORT_CHAT_SOCKET_URL = env_str("SUPPORT_CHAT_SOCKET_URL", "").rstrip("/")
if SUPPORT_CHAT_SOCKET_URL and not re.fullmatch(r"wss?://[^/\s]+", SUPPORT_CHAT_SOCKET_URL):
    raise ImproperlyConfigured(
        f"SUPPORT_CHAT_SOCKET_URL={SUPPORT_CHAT_SOCKET_URL!r}: use ws://host:port or wss://host, or leave it empty."
    )
# Days after solving during which a requester's answer reopens the ticket; afterwards it is closed.
SUPPORT_REOPEN_DAYS = env_int("SUPPORT_REOPEN_DAYS", 7, minimum=1)
# A live chat's reply is e-mailed this long after it was sent, and only if the user has not read it by then.
SUPPORT_CHAT_EMAIL_DELAY_SECONDS = env_int("SUPPORT_CHAT_EMAIL_DELAY_SECONDS", 180)
# Below this classifier confidence (in %) a ticket waits in the triage view for an agent, when the model version
# was trained on too few examples to choose its own threshold on a validation set.
SUPPORT_TRIAGE_MIN_CONFIDENCE = env_int("SUPPORT_TRIAGE_MIN_CONFIDENCE", 60, minimum=1) / 100
SUPPORT_AUTO_ASSIGN = env_bool("SUPPORT_AUTO_ASSIGN", True)
# Satisfaction surveys: links valid this many days, a rating changeable this many days, points per answer.
SUPPORT_SURVEY_LINK_DAYS = env_int("SUPPORT_SURVEY_LINK_DAYS", 14, minimum=1)
SUPPORT_SURVEY_CHANGE_DAYS = env_int("SUPPORT_SURVEY_CHANGE_DAYS", 7, minimum=1)
SUPPORT_SURVEY_POINTS = env_int("SUPPORT_SURVEY_POINTS", 10)
# A guidance answer counts as a deflection when the user read an article and filed no ticket within this time.
SUPPORT_DEFLECTION_HOURS = env_int("SUPPORT_DEFLECTION_HOURS", 24, minimum=1)
# The mail gateway's token for POST /api/v1/support/inbound-email/ (e-mail tickets); empty disables the endpoint.
SUPPORT_INBOUND_EMAIL_TOKEN = env_str("SUPPORT_INBOUND_EMAIL_TOKEN", "")

# --- Proxies and the client's address ------------------------------------------------------------
# The number of reverse proxies in front of the app. Forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are
# trusted only from them: with none, the client is the socket's peer and any X-Forwarded-For is the client's own
# claim. saypro.clientip reads this; DRF's NUM_PROXIES follows it for any throttle that asks DRF directly.
BEHIND_PROXY = env_proxy_count("DJANGO_BEHIND_PROXY")

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes the first class's WWW-Authenticate header, so a call without credentials gets 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers, with a JSON parser that bounds nesting (a deep body is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "saypro.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "saypro.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "saypro.api.exception_handler",
    "NUM_PROXIES": BEHIND_PROXY,
    "DEFAULT_THROTTLE_RATES": {
        "registration": env_str("THROTTLE_REGISTRATION", "20/hour"),
        "registration_start": env_str("THROTTLE_REGISTRATION_START", "60/hour"),
        "verification": env_str("THROTTLE_VERIFICATION", "30/hour"),
        "support_report": env_str("THROTTLE_SUPPORT_REPORT", "30/hour"),
        "support_guidance": env_str("THROTTLE_SUPPORT_GUIDANCE", "120/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SayPro Ops API",
    "DESCRIPTION": (
        "The API of SayPro Ops, the operations side of the SayPro classified marketplace. Marketplace users sign up "
        "and verify, manage their account, post listings and trade, message the marketplace's team, open support "
        "tickets and report content; staff work the queues behind the marketplace's four promises (registrations "
        "approved within 48 h, messages answered within 24 h, tickets resolved within 24 h, flagged content "
        "decided within 12 h); managers read the compliance figures and reports. Users authenticate with a token "
        "(`Authorization: Token …`), staff pages with their session. Every error has one shape: "
        '`{"error": {"code", "message", "fields"}}`. Lists page by cursor.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name across apps get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "AppealStatusEnum": "moderation.models.Appeal.Status",
        "CaseStatusEnum": "moderation.models.CaseStatus",
        "ConversationCategoryEnum": "messaging.models.Category",
        "ConversationStatusEnum": "messaging.models.Status",
        "CurrencyEnum": "marketplace.models.Currency",
        "DeletionRequestStatusEnum": "accounts.models.DeletionRequest.Status",
        "FlagReasonEnum": "moderation.models.Reason",
        "FlagSourceEnum": "moderation.models.Source",
        "ListingStatusEnum": "marketplace.models.ListingStatus",
        "ModerationActionEnum": "moderation.models.Action",
        "ModerationRuleEnum": "moderation.models.Rule",
        "RegistrationStatusEnum": "accounts.models.RegistrationStatus",
        "ReportKindEnum": "reports.models.ReportKind",
        "ReportRunStatusEnum": "reports.models.RunStatus",
        "SessionChannelEnum": "accounts.models.AccountSession.Channel",
        "TicketCategoryEnum": "support.models.Category",
        "TicketChannelEnum": "support.models.Channel",
        "TicketFilingChannelEnum": "support.api.USER_CHANNELS",
        "TicketPriorityEnum": "support.models.Priority",
        "TicketStatusEnum": "support.models.Status",
        "TransactionStatusEnum": "marketplace.models.TransactionStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "saypro.api_schema.add_error_responses",
        "saypro.api_schema.tag_by_area",
    ],
}

# --- Security (production) ---------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS: list[str] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": sys.stderr}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

os.makedirs(STATIC_ROOT, exist_ok=True)
