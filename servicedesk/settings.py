"""Settings read from the environment, with safe defaults that run the desk on one machine.

With nothing set, the desk runs on SQLite and a file-system Celery broker under var/.
DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from servicedesk.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"
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
    "tenancy",
    "incidents",
    "escalation",
    "portal",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenancy.middleware.TenantMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
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
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    # Embedded default: WAL lets readers and the worker run beside the writer; IMMEDIATE takes
    # the write lock at BEGIN so two writers queue instead of failing with "database is locked".
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "in"),
        "data_folder_out": str(VAR_DIR / "celery" / "in"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits stay well below the visibility timeout so a stuck task dies before Redis redelivers.
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Service Desk <desk@localhost>")

# --- Notifications --------------------------------------------------------------------------
NOTIFICATION_MAX_ATTEMPTS = envint("NOTIFICATION_MAX_ATTEMPTS", 8)
NOTIFICATION_BACKOFF_SECONDS = envint("NOTIFICATION_BACKOFF_SECONDS", 30)
NOTIFICATION_RELAY_AFTER_SECONDS = envint("NOTIFICATION_RELAY_AFTER_SECONDS", 120)
NOTIFICATION_RELAY_INTERVAL_SECONDS = envint("NOTIFICATION_RELAY_INTERVAL_SECONDS", 60)

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
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG and envbool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
PASSWORD_RESET_TIMEOUT = envint("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
INVITATION_MAX_AGE = envint("INVITATION_MAX_AGE", 7 * 24 * 3600)
SIGNUP_CONFIRMATION_MAX_AGE = envint("SIGNUP_CONFIRMATION_MAX_AGE", 2 * 24 * 3600)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if envbool("FAST_PASSWORD_HASHER", False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service desk API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

CELERY_BEAT_SCHEDULE = {
    "relay-notifications": {
        "task": "escalation.relay_notifications",
        "schedule": float(NOTIFICATION_RELAY_INTERVAL_SECONDS),
    },
}

# --- SLA clocks and escalation --------------------------------------------------------------
# The database holds every deadline; beat only triggers the sweep. Expiring the triggers keeps
# a backlog of them from piling up while a worker is away.
SLA_SWEEP_INTERVAL_SECONDS = envint("SLA_SWEEP_INTERVAL_SECONDS", 15)
SLA_SWEEP_BATCH_SIZE = envint("SLA_SWEEP_BATCH_SIZE", 1000)
SLA_AUDIT_INTERVAL_SECONDS = envint("SLA_AUDIT_INTERVAL_SECONDS", 60)
SLA_AUDIT_GRACE_SECONDS = envint("SLA_AUDIT_GRACE_SECONDS", 60)
SLA_AUTO_CLOSE_INTERVAL_SECONDS = envint("SLA_AUTO_CLOSE_INTERVAL_SECONDS", 600)
SLA_ACK_LINK_MAX_AGE = envint("SLA_ACK_LINK_MAX_AGE", 7 * 24 * 3600)
CELERY_BEAT_SCHEDULE |= {
    "sla-sweep-clocks": {
        "task": "escalation.sweep_clocks",
        "schedule": float(SLA_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(SLA_SWEEP_INTERVAL_SECONDS)},
    },
    "sla-notify-alerts": {
        "task": "escalation.notify_alerts",
        "schedule": float(SLA_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(SLA_SWEEP_INTERVAL_SECONDS)},
    },
    "sla-audit-clocks": {
        "task": "escalation.audit_clocks",
        "schedule": float(SLA_AUDIT_INTERVAL_SECONDS),
        "options": {"expires": float(SLA_AUDIT_INTERVAL_SECONDS)},
    },
    "sla-auto-close": {
        "task": "escalation.auto_close",
        "schedule": float(SLA_AUTO_CLOSE_INTERVAL_SECONDS),
        "options": {"expires": float(SLA_AUTO_CLOSE_INTERVAL_SECONDS)},
    },
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
