"""Settings read from the environment, with safe defaults that run the desk on one machine.

With nothing set, the desk runs on SQLite and a file-system Celery broker under var/.
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis; CELERY_BROKER_URL=amqp://... makes
RabbitMQ the broker.
"""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from servicedesk.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
# Django's deploy check (security.W009) flags keys starting "django-insecure-": so does this one.
_DEV_SECRET = "django-insecure-dev-only-secret-key-change-me-0123456789abcdefghijklmn"
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET and envbool("REQUIRE_SECRET_KEY", False):
    raise ImproperlyConfigured("SECRET_KEY must be set when REQUIRE_SECRET_KEY is on")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    # Second factors (tenancy/mfa/, docs/mfa.md): authenticator apps, recovery codes, passkeys.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "tenancy",
    "sso",
    "incidents",
    "mail",
    "oncall",
    "escalation",
    "problems",
    "knowledge",
    "reviews",
    "portal",
    "desk",
    "dashboards",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the outage middleware, so its 503 page carries the policy as well.
    "csp.middleware.CSPMiddleware",
    # A database or broker outage in a view is a 503 with Retry-After (servicedesk/outage.py).
    "servicedesk.outage.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): which second factor, if any, this session passed.
    "django_otp.middleware.OTPMiddleware",
    # Each signed-in session's "last active", at most once a minute (tenancy/account/).
    "tenancy.account.middleware.SessionSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenancy.middleware.TenantMiddleware",
    # After the tenant's membership is known: staff of a tenant that requires a second factor
    # enrol (or pass theirs) before its pages open.
    "tenancy.mfa.middleware.SecondFactorRequiredMiddleware",
    # Last, so it sees a lockout marked by any view and answers with tenancy.throttle's page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = envstr("ROOT_URLCONF", "servicedesk.urls")
WSGI_APPLICATION = "servicedesk.wsgi.application"
AUTH_USER_MODEL = "tenancy.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "tenancy.context_processors.tenant",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL")
# Behind PgBouncer in transaction pooling (docs/deployment.md) each transaction may run on
# another server connection: no cursor may outlive its transaction.
PGBOUNCER = envbool("PGBOUNCER", False)
# The second wall between tenants, PostgreSQL row-level security (tenancy/rls.py): each statement
# runs as this NOLOGIN role, which the connecting role must be able to SET ROLE to (the
# migration tenancy 0007 creates it when it may; docs/security.md). Off only to measure its cost.
DATABASE_RLS = envbool("DATABASE_RLS", True)
DATABASE_RLS_ROLE = envstr("DATABASE_RLS_ROLE", "desk_tenant")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_RLS_ROLE):
    raise ImproperlyConfigured(
        f"DATABASE_RLS_ROLE must be a plain lower-case role name, not {DATABASE_RLS_ROLE!r}."
    )


def _database(url: str) -> dict:
    """One alias from a URL: the primary's, and each replica's with the same options."""
    database: dict = dict(
        dj_database_url.parse(
            url,
            # Kept open across requests, and checked before a request's first query reuses it,
            # so the first request after a database restart does not fail on a dead connection.
            conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
            # The wall sets each statement's role in the same query string, which a server-side
            # cursor's DECLARE cannot carry.
            disable_server_side_cursors=PGBOUNCER or DATABASE_RLS,
        )
    )
    # An unreachable server fails a request (503) or /readyz within seconds instead of hanging
    # it; a connect_timeout in the URL's query wins.
    database.setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", envint("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)
    )
    return database


if DATABASE_URL:
    DATABASES = {"default": _database(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Embedded default: WAL lets readers and the worker run beside the writer; IMMEDIATE takes
    # the write lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # A file, not memory: a Celery worker process started by a test must see the data.
            "TEST": {"NAME": envstr("SQLITE_TEST_PATH", str(VAR_DIR / "test-db.sqlite3"))},
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DATABASE_RLS = DATABASE_RLS and IS_POSTGRES
# Streaming replicas (tenancy/replicas.py, docs/replicas.md): each URL becomes an alias
# replica1, replica2, ... with the primary's options. Only reads that opted in (dashboards, their
# exports and cards, the API's lists, imports' read-back) go there, and only from a replica whose
# replay lag is within REPLICA_MAX_LAG_SECONDS; a person who has just written reads the primary
# for REPLICA_PIN_SECONDS (a few seconds above a healthy replica's lag).
DATABASE_REPLICA_URLS = envlist("DATABASE_REPLICA_URLS")
REPLICA_MAX_LAG_SECONDS = envint("REPLICA_MAX_LAG_SECONDS", 30, minimum=1)
REPLICA_PIN_SECONDS = envint("REPLICA_PIN_SECONDS", 5, minimum=1)
REPLICA_ALIASES: list[str] = []
if DATABASE_REPLICA_URLS and not IS_POSTGRES:
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL.")
for _n, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _scheme = _url.partition("://")[0]
    if _scheme not in ("postgres", "postgresql", "pgsql"):
        # The URL itself is not repeated: it may carry a password.
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS: entry {_n} must be a postgres:// URL, not {_scheme!r}."
        )
    DATABASES[f"replica{_n}"] = {
        **_database(_url),
        # Tests read the replica alias from the test database; nothing is created for it.
        "TEST": {"MIRROR": "default"},
    }
    REPLICA_ALIASES.append(f"replica{_n}")
if REPLICA_ALIASES:
    DATABASE_ROUTERS = ["tenancy.replicas.ReplicaRouter"]
    # Before axes, which stays last: a write that succeeded pins its author to the primary.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("axes.middleware.AxesMiddleware"),
        "tenancy.replicas.ReadYourWritesMiddleware",
    )
# How long a settings change waits for the reports in flight before it gives up with "busy"
# (tenancy/config_stamp.py): reports arriving meanwhile queue behind it.
CONFIG_LOCK_WAIT_MS = envint("CONFIG_LOCK_WAIT_MS", 3000, minimum=1)

# --- Celery ---------------------------------------------------------------------------------
# REDIS_URL is the cache (and, unless CELERY_BROKER_URL names another, the broker);
# CELERY_BROKER_URL (amqp:// or redis://) names the broker on its own: RabbitMQ for large
# installations (docs/deployment.md, "RabbitMQ for large installations").
REDIS_URL = envstr("REDIS_URL")
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or REDIS_URL
# Only the scheme goes into the message: the rest of the URL may carry a password.
_broker_scheme = CELERY_BROKER_URL.partition("://")[0] if "://" in CELERY_BROKER_URL else ""
if CELERY_BROKER_URL and _broker_scheme not in ("amqp", "amqps", "redis", "rediss"):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must start with amqp:// or amqps:// (RabbitMQ) or redis:// or "
        f"rediss:// (Redis); got {_broker_scheme + '://' if _broker_scheme else 'no scheme'}"
    )
BROKER_IS_RABBITMQ = _broker_scheme in ("amqp", "amqps")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
# Four queues, so the SLA timers never wait behind deliveries (escalation/services/queues.py,
# docs/operations.md) and a tenant's storm of deliveries waits in a lane of its own
# (delivery_bulk): the Procfile and docker-compose run a worker for `timers` and one for both
# delivery lanes and `celery`. A worker started without -Q consumes all four.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: dict[str, dict] = {
    "celery": {},
    "delivery": {},
    "delivery_bulk": {},
    "timers": {},
}
if BROKER_IS_RABBITMQ:
    # Quorum queues: replicated, durable, and a message is confirmed (confirm_publish) only
    # once a majority has written it, so a broker crash loses no trigger that was sent.
    # Topic exchanges, because Celery's native delayed delivery (countdowns, retry back-off:
    # the relay's follow-up, autoretry) routes through them; with a direct exchange a delayed
    # task would sit in a worker's memory instead.
    CELERY_TASK_QUEUES = {
        name: {
            "exchange": name,
            "exchange_type": "topic",
            "routing_key": name,
            "queue_arguments": {"x-queue-type": "quorum"},
        }
        for name in CELERY_TASK_QUEUES
    }
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # Quorum queues refuse a channel-wide prefetch: Celery then counts per consumer.
    CELERY_WORKER_DETECT_QUORUM_QUEUES = True
    CELERY_BROKER_NATIVE_DELAYED_DELIVERY_QUEUE_TYPE = "quorum"
elif CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)
    }
else:
    # Embedded broker: its folders must exist before a worker starts, so settings make them.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "in"),
        "data_folder_out": str(VAR_DIR / "celery" / "in"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    for _folder in ("in", "processed", "control"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
# Beat keeps its last-run times under VAR_DIR, made here: a missing folder leaves beat running
# but sending nothing.
VAR_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The `worker` process's task processes (the Procfile's `timers` sets its own three).
CELERY_WORKER_CONCURRENCY = envint("CELERY_WORKER_CONCURRENCY", 4, minimum=1)
# Time limits stay well below the visibility timeout so a stuck task dies before Redis redelivers,
# and below RabbitMQ's consumer_timeout (30 minutes by default), past which RabbitMQ closes the
# channel of a worker holding an unacknowledged (acks_late) task. Imports have their own, longer
# limit (IMPORT_TASK_TIME_LIMIT, 15 minutes), still below it.
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_IGNORE_RESULT = True
# Celery closes the database connection around every task unless this is set; servicedesk/
# celery.py recycles connections by DATABASE_CONN_MAX_AGE and health checks instead, as requests
# do. The count is a backstop: a process closes its connections after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ROUTES = {
    "escalation.sweep_clocks": {"queue": "timers"},
    "escalation.notify_alerts": {"queue": "timers"},
    "escalation.audit_clocks": {"queue": "timers"},
    "escalation.auto_close": {"queue": "timers"},
    "escalation.relay_notifications": {"queue": "timers"},
    "escalation.deliver_notification": {"queue": "delivery"},
    "escalation.deliver_notifications": {"queue": "delivery"},
    # Mail in, IMAP polls, imports, dashboards and clean-ups stay on the default queue: none of
    # them keeps an SLA deadline, and a slow one holds one worker process, not the timers.
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Cache ----------------------------------------------------------------------------------
# Who has a desk incident open (desk/presence.py) must be seen by every web process: Redis
# when REDIS_URL is set, else files under VAR_DIR. Short socket timeouts: presence is skipped,
# not waited for, when Redis is away. The default cache stays each process's own.
CACHES: dict[str, dict] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "presence": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "presence",
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "presence"),
            # Past this many files a third is dropped at random: well above one desk's pages.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    ),
}

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Service Desk <desk@localhost>")
SERVER_EMAIL = envstr("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Notifications --------------------------------------------------------------------------
NOTIFICATION_MAX_ATTEMPTS = envint("NOTIFICATION_MAX_ATTEMPTS", 8, minimum=1)
NOTIFICATION_BACKOFF_SECONDS = envint("NOTIFICATION_BACKOFF_SECONDS", 30, minimum=0)
NOTIFICATION_BACKOFF_MAX_SECONDS = envint("NOTIFICATION_BACKOFF_MAX_SECONDS", 3600, minimum=0)
NOTIFICATION_RELAY_AFTER_SECONDS = envint("NOTIFICATION_RELAY_AFTER_SECONDS", 120, minimum=0)
NOTIFICATION_RELAY_INTERVAL_SECONDS = envint("NOTIFICATION_RELAY_INTERVAL_SECONDS", 60, minimum=1)
# Rows written in one transaction (a notifier's batch of alerts) are triggered in batches of
# this many, each sent by one task over one connection within one deadline.
NOTIFICATION_DELIVERY_BATCH = envint("NOTIFICATION_DELIVERY_BATCH", 20, minimum=1)
# A tenant that enqueues more rows than this in a minute sends its triggers to the bulk lane,
# so its storm does not delay other tenants' alerts (escalation/services/lanes.py); 0: one lane.
NOTIFICATION_BULK_AFTER = envint("NOTIFICATION_BULK_AFTER", 100, minimum=0)
# Every attempt ends within its channel's deadline (connect, send and read together), enforced
# by the code whatever Celery's pool (escalation/channels/deadline.py).
WEBHOOK_DEADLINE_SECONDS = envint("WEBHOOK_DEADLINE_SECONDS", 15, minimum=1)
EMAIL_DEADLINE_SECONDS = envint("EMAIL_DEADLINE_SECONDS", 60, minimum=1)
# After its deadline, how long a sender keeps recording a send while the database is away.
NOTIFICATION_MARK_SENT_SECONDS = envint("NOTIFICATION_MARK_SENT_SECONDS", 30, minimum=0)
# A claim older than the longest deadline plus the above plus this grace (clocks that differ
# between hosts) belongs to a dead worker: the row is sent again.
NOTIFICATION_CLAIM_GRACE_SECONDS = envint("NOTIFICATION_CLAIM_GRACE_SECONDS", 30, minimum=0)
# The relay adds triggers once the delivery queue has drained to a tenth of this, never past it.
NOTIFICATION_RELAY_MAX_QUEUED = envint("NOTIFICATION_RELAY_MAX_QUEUED", 2000, minimum=1)
# Per socket operation (connect, each read); the deadline bounds them all together.
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# One tenant's slow or dead receiver cannot hold the workers: at most this many deliveries to
# one endpoint at once, and after an attempt that timed out its rows wait, doubling from the
# first backoff up to the longest.
WEBHOOK_ENDPOINT_CONCURRENCY = envint("WEBHOOK_ENDPOINT_CONCURRENCY", 2, minimum=1)
WEBHOOK_ENDPOINT_BACKOFF_SECONDS = envint("WEBHOOK_ENDPOINT_BACKOFF_SECONDS", 10, minimum=0)
WEBHOOK_ENDPOINT_BACKOFF_MAX_SECONDS = envint(
    "WEBHOOK_ENDPOINT_BACKOFF_MAX_SECONDS", 300, minimum=0
)
# Off: webhooks go only to public addresses (tenancy/addresses.py says why).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = envbool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

# --- Single sign-on (sso/, docs/sso.md) -----------------------------------------------------
# The desk fetches each tenant's OpenID provider (discovery, keys, tokens): like webhooks, only
# over HTTPS to public addresses unless this is on (a provider on the desk's own network, tests).
SSO_ALLOW_PRIVATE_ADDRESSES = envbool("SSO_ALLOW_PRIVATE_ADDRESSES", False)
# Per request to a provider (discovery, keys, token): a slow provider fails the sign-in in words.
SSO_PROVIDER_TIMEOUT_SECONDS = envint("SSO_PROVIDER_TIMEOUT_SECONDS", 10, minimum=1)

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = envlist(
    "ATTACHMENT_ALLOWED_TYPES",
    "image/png,image/jpeg,image/gif,application/pdf,text/plain,text/csv,application/zip,"
    "application/json,application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,message/rfc822",
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------------------
# HTTPS=1 says the desk is served over HTTPS (directly or behind a TLS proxy): it turns on the
# secure defaults below, each of which its own variable can still override.
HTTPS = envbool("HTTPS", False)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG and HTTPS)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
# Probes of a container or load balancer speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' preload list is a deliberate, hard-to-undo choice per domain, so its
# warning (security.W021) is silenced unless the operator opts in with SECURE_HSTS_PRELOAD.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles and everything else only from the desk's
# own origin. No 'unsafe-inline' and no 'unsafe-eval': every behaviour lives in static/js, every
# style in a stylesheet, and htmx runs with allowEval off (templates/base.html), so an injected
# <script>, on*= handler or style= attribute does nothing. data: images: pico.css draws its
# select arrows and checkmarks as data: SVGs, and the dashboards' favicon is data:,.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
    # The API's Swagger UI and Redoc pages (drf-spectacular) start from an inline script and
    # Redoc styles itself with inline <style>: they go without a policy until they are served
    # CSP-ready (docs/security.md). They show the schema only, no tenant's data.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs/", "/api/v1/redoc/"],
}
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
INVITATION_MAX_AGE = envint("INVITATION_MAX_AGE", 7 * 24 * 3600)
SIGNUP_CONFIRMATION_MAX_AGE = envint("SIGNUP_CONFIRMATION_MAX_AGE", 2 * 24 * 3600)
# The "Yes, it's fixed" / "No, still broken" links in the resolved email stop working after this.
ANSWER_LINK_MAX_AGE = envint("ANSWER_LINK_MAX_AGE", 14 * 24 * 3600)
# The "follow this incident" link in every email to a contact without an account; each email
# brings a fresh one.
FOLLOW_LINK_MAX_AGE = envint("FOLLOW_LINK_MAX_AGE", 30 * 24 * 3600, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Log-in throttle (django-axes; tenancy/throttle.py, docs/security.md) ---------------------
# Failed log-ins, password-reset requests and bad API keys are counted per name and per address;
# past the limit the name or address waits LOGIN_LOCKOUT_MINUTES (a cool-off, never permanent).
LOGIN_FAILURES_PER_ACCOUNT = envint("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = envint("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = [
    "tenancy.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "tenancy.throttle.DeskAxesHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ACCOUNT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Failures during a lock are not recorded, so hammering a locked account does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "tenancy.throttle.username_of"
AXES_LOCKOUT_CALLABLE = "tenancy.throttle.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "tenancy.throttle.client_address"
# Behind BEHIND_PROXY, how many proxies of ours append to X-Forwarded-For (tenancy/throttle.py).
PROXY_COUNT = envint("PROXY_COUNT", 1, minimum=1)

# --- Second factors (tenancy/mfa/, docs/mfa.md) ------------------------------------------------
# After a right password, how long the second step (code or passkey) may take before the person
# starts again from their password.
MFA_PENDING_SECONDS = envint("MFA_PENDING_SECONDS", 300, minimum=30)
MFA_ISSUER = envstr("MFA_ISSUER", "Service desk")  # the name authenticator apps show
# Passkeys (WebAuthn, django-otp-webauthn). The relying party ID is the domain passkeys are bound
# to: empty, the host name of each request (ALLOWED_HOSTS vets it); set it in production
# (desk.example.com), since changing it later orphans every passkey. The browser's origin must be
# one of WEBAUTHN_ALLOWED_ORIGINS: empty, SITE_URL's and the request's own.
WEBAUTHN_RP_ID = envstr("WEBAUTHN_RP_ID", "")
WEBAUTHN_ALLOWED_ORIGINS = envlist("WEBAUTHN_ALLOWED_ORIGINS")
OTP_WEBAUTHN_RP_ID_CALLABLE = "tenancy.mfa.webauthn.rp_id"
OTP_WEBAUTHN_RP_NAME = MFA_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = WEBAUTHN_ALLOWED_ORIGINS
if not WEBAUTHN_ALLOWED_ORIGINS:
    # The package checks only its own list; the desk's helper derives the origins instead.
    SILENCED_SYSTEM_CHECKS.append("otp_webauthn.E030")
OTP_WEBAUTHN_HELPER_CLASS = "tenancy.mfa.webauthn.DeskWebAuthnHelper"
# A passkey is a second factor after the password here, never a way in on its own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Wrong codes are counted by the desk's one throttle (tenancy/throttle.py: a clear message, an
# admin's lift); django-otp's own growing delays would refuse a right code typed just after a
# wrong one, with nothing said.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = MFA_ISSUER

if envbool("FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tenancy.api.errors.problem_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 600)
IDEMPOTENCY_KEEP_HOURS = envint("IDEMPOTENCY_KEEP_HOURS", 48)
IDEMPOTENCY_ABANDONED_SECONDS = envint("IDEMPOTENCY_ABANDONED_SECONDS", 600)
SPECTACULAR_SETTINGS = {
    "TITLE": "Service desk API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tenancy.api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incidents.models.config.Level",
        "HoldReasonEnum": "incidents.models.incident.HoldReason",
        "IncidentStateEnum": "incidents.models.incident.IncidentState",
        "IntegrationKindEnum": "incidents.models.integrations.IntegrationKind",
        "AlertOutcomeEnum": "incidents.models.integrations.AlertOutcome",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Axes logs every log-in and clean-up at INFO; its warnings (failures, lockouts) stay.
        "axes": {"level": "WARNING"},
    },
}

# --- SLA clocks and escalation --------------------------------------------------------------
# The database holds every deadline; beat only triggers the sweep. The timer triggers wait in a
# queue of their own (`timers`) and expire only after SLA_TRIGGER_EXPIRES_SECONDS, far longer
# than that queue waits while its worker is alive; the expiry only keeps triggers from piling up
# while the worker is away. A sweep or notifier that runs out of time re-arms itself at once.
SLA_TRIGGER_EXPIRES_SECONDS = envint("SLA_TRIGGER_EXPIRES_SECONDS", 300, minimum=1)
SLA_SWEEP_INTERVAL_SECONDS = envint("SLA_SWEEP_INTERVAL_SECONDS", 15)
SLA_SWEEP_BATCH_SIZE = envint("SLA_SWEEP_BATCH_SIZE", 1000)
SLA_AUDIT_INTERVAL_SECONDS = envint("SLA_AUDIT_INTERVAL_SECONDS", 60)
SLA_AUDIT_GRACE_SECONDS = envint("SLA_AUDIT_GRACE_SECONDS", 60)
SLA_AUTO_CLOSE_INTERVAL_SECONDS = envint("SLA_AUTO_CLOSE_INTERVAL_SECONDS", 600)
SLA_ACK_LINK_MAX_AGE = envint("SLA_ACK_LINK_MAX_AGE", 7 * 24 * 3600)


def _every(task: str, seconds: int) -> dict:
    return {"task": task, "schedule": float(seconds), "options": {"expires": float(seconds)}}


def _timer(task: str, seconds: int) -> dict:
    expires = float(max(seconds, SLA_TRIGGER_EXPIRES_SECONDS))
    return {"task": task, "schedule": float(seconds), "options": {"expires": expires}}


CELERY_BEAT_SCHEDULE = {
    "relay-notifications": _timer(
        "escalation.relay_notifications", NOTIFICATION_RELAY_INTERVAL_SECONDS
    ),
    "sla-sweep-clocks": _timer("escalation.sweep_clocks", SLA_SWEEP_INTERVAL_SECONDS),
    "sla-notify-alerts": _timer("escalation.notify_alerts", SLA_SWEEP_INTERVAL_SECONDS),
    "sla-audit-clocks": _timer("escalation.audit_clocks", SLA_AUDIT_INTERVAL_SECONDS),
    "sla-auto-close": _timer("escalation.auto_close", SLA_AUTO_CLOSE_INTERVAL_SECONDS),
}

# --- Operations (docs/operations.md) --------------------------------------------------------
# /metrics (Prometheus) answers only requests bearing "Authorization: Bearer <this>"; unset, it
# is not served at all (404).
METRICS_TOKEN = envstr("METRICS_TOKEN", "")

# --- Email in (mail/, docs/email.md) ---------------------------------------------------------
# The SMTP intake (`manage.py mail_intake`, the Procfile's mail) listens here; 552 past the size.
MAIL_INTAKE_HOST = envstr("MAIL_INTAKE_HOST", "127.0.0.1")
MAIL_INTAKE_PORT = envint("MAIL_INTAKE_PORT", 2525, minimum=1)
# Large enough for a 20 MB attachment in base64; the attachment itself meets ATTACHMENT_MAX_BYTES.
MAIL_MAX_BYTES = envint("MAIL_MAX_BYTES", 35 * 1024 * 1024, minimum=1024)
# A stored message still waiting this long had its trigger lost; the relay triggers it again.
MAIL_RELAY_AFTER_SECONDS = envint("MAIL_RELAY_AFTER_SECONDS", 60, minimum=1)
MAIL_RELAY_INTERVAL_SECONDS = envint("MAIL_RELAY_INTERVAL_SECONDS", 30, minimum=1)
# At most one automatic answer of a kind (a refusal) per sender in this window.
MAIL_AUTO_ANSWER_WINDOW_HOURS = envint("MAIL_AUTO_ANSWER_WINDOW_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["mail-relay-inbound"] = _every(
    "mail.relay_inbound", MAIL_RELAY_INTERVAL_SECONDS
)
# IMAP polling (mail/services/imap.py, docs/email.md): each mailbox this often, at most
# this many messages a poll (the rest the next time), each command given this long to answer.
MAIL_IMAP_POLL_SECONDS = envint("MAIL_IMAP_POLL_SECONDS", 60, minimum=5)
MAIL_IMAP_MAX_PER_POLL = envint("MAIL_IMAP_MAX_PER_POLL", 200, minimum=1)
MAIL_IMAP_TIMEOUT_SECONDS = envint("MAIL_IMAP_TIMEOUT_SECONDS", 30, minimum=1)
# A PEM file of CA certificates trusted besides the system's (a mail server with a private CA).
MAIL_IMAP_CA_FILE = envstr("MAIL_IMAP_CA_FILE", "")
# Off: mailboxes are polled only on public addresses (tenancy/addresses.py says why).
MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES = envbool("MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES", False)
CELERY_BEAT_SCHEDULE["mail-poll-mailboxes"] = _every("mail.poll_mailboxes", MAIL_IMAP_POLL_SECONDS)

# --- Imports of incident history (imports/) ----------------------------------------------------
IMPORT_TASK_BUDGET_SECONDS = envint("IMPORT_TASK_BUDGET_SECONDS", 240)
IMPORT_TASK_TIME_LIMIT = envint("IMPORT_TASK_TIME_LIMIT", 900)
IMPORT_RELAY_AFTER_SECONDS = envint("IMPORT_RELAY_AFTER_SECONDS", 120)
CELERY_BEAT_SCHEDULE["relay-imports"] = {"task": "imports.relay_runs", "schedule": 60.0}
# Stored answers past IDEMPOTENCY_KEEP_HOURS are deleted hourly (each holds a response body).
CELERY_BEAT_SCHEDULE["purge-idempotency"] = {
    "task": "tenancy.purge_idempotency",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
# Expired sessions and the account page's rows of sessions that ended (tenancy/account/).
CELERY_BEAT_SCHEDULE["prune-sessions"] = {
    "task": "tenancy.prune_sessions",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
# Each tenant's audit records past its retention period (Settings → Audit log) go daily, by one
# audited job (tenancy/audit.py).
CELERY_BEAT_SCHEDULE["prune-audit"] = {
    "task": "tenancy.prune_audit",
    "schedule": 86400.0,
    "options": {"expires": 3600.0},
}
# --- Monitoring integrations (incidents/intake/, docs/integrations.md) ---------------------
# Alerts one integration may send per minute; past it, 429 with Retry-After (logged). 0: no limit.
INTEGRATION_ALERTS_PER_MINUTE = envint("INTEGRATION_ALERTS_PER_MINUTE", 3000, minimum=0)
# The alert log (Settings -> Integrations) keeps this many days; older rows go daily.
INTEGRATION_LOG_RETENTION_DAYS = envint("INTEGRATION_LOG_RETENTION_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["prune-alert-log"] = {
    "task": "incidents.prune_alert_log",
    "schedule": 86400.0,
    "options": {"expires": 3600.0},
}
# --- Dashboards -----------------------------------------------------------------------------
# Beat refreshes each tenant's dashboard tables (incident facts and daily rollups) this often;
# the page says how fresh its figures are, and asks for a refresh when they are twice as old.
DASHBOARD_REFRESH_SECONDS = envint("DASHBOARD_REFRESH_SECONDS", 300)
CELERY_BEAT_SCHEDULE |= {
    "dashboards-refresh-rollups": {
        "task": "dashboards.refresh_rollups",
        "schedule": float(DASHBOARD_REFRESH_SECONDS),
        "options": {"expires": float(DASHBOARD_REFRESH_SECONDS)},
    },
}
