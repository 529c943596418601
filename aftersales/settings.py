"""Settings, all from the environment (django-environ).

With nothing set the project runs on embedded defaults: SQLite in WAL mode and
Celery's filesystem transport, so `make run` needs no server. Set DATABASE_URL,
CELERY_BROKER_URL and CACHE_URL to run on PostgreSQL and Redis.
"""

import datetime as dt
import os
from pathlib import Path

import environ

# numpy (imported by the photo checks) starts an OpenBLAS pool of a thread per core in every web
# and worker process; the checks hash one small image at a time, so one thread does. Set before
# anything imports numpy; the environment can still ask for more.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("AFTERSALES_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
)
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")
# The fallback key is only for local development; production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "aftersales.exceptions.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    # The product's apps, in layer order (README "How it is built"): each imports only those
    # above it in this list, and domain-event subscribers run in this order.
    "aftersales",
    "shops",
    "webhooks",
    "notifications",
    "tickets",
    "assignment",
    "disputes",
    "risk",
    "sla",
    "automation",
    "analytics",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aftersales.middleware.refuse_bad_text",
    "aftersales.request_memo.request_memo",
    "aftersales.middleware.WorkspaceMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into shops.lockout's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aftersales.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "aftersales.wsgi.application"

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'aftersales.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process, the worker and beat read while one writes;
    # IMMEDIATE transactions take the write lock up front instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttle counters); shared across processes -------------------
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://aftersales_cache")}
# Sessions: read from Redis when the cache is Redis (one round trip instead of a query on every
# page; written through to the database, which stays the record). On the database cache that
# would only swap one query for another.
if "redis" in CACHES["default"]["BACKEND"].lower():
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Brute force (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username, or from
# one address, logins from there are refused for the cool-off, on /login/, /admin/ and the
# token API alike; a successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "shops.lockout.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:queue"
LOGOUT_REDIRECT_URL = "login"

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production (after collectstatic) may use whitenoise.storage.CompressedManifestStaticFilesStorage.
        "BACKEND": env(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# Serve static files straight from the apps, so a fresh checkout works before collectstatic.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# Uploaded evidence is private: it is served only through an access-checked view.
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shops.authentication.ShopAPIKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["shops.permissions.IsShopKeyOrStaff"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "aftersales.api.DecimalJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "shops.throttling.ShopKeyRateThrottle",
        "shops.throttling.StaffRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "shop_key": env("SHOP_KEY_THROTTLE_RATE", default="1200/min"),
        "staff": env("STAFF_THROTTLE_RATE", default="600/min"),
    },
    "EXCEPTION_HANDLER": "aftersales.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aftersales API",
    "DESCRIPTION": "REST API for shop backends and staff (售后工单).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get their own components, where required text says minLength 1.
    "COMPONENT_SPLIT_REQUEST": True,
    # aftersales/schema.py: every operation's error statuses, strict request bodies.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aftersales.schema.add_error_responses",
        "aftersales.schema.allow_empty_query_values",
        "aftersales.schema.close_request_bodies",
    ],
}
API_KEY_CUSTOM_HEADER = "HTTP_AUTHORIZATION"

# --- Celery ---------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),  # broadcasts (kombu's default is ./control)
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A broker that vanishes without closing the TCP connection (failover, NAT or firewall
        # timeout) is noticed instead of waited on forever; kombu's BRPOP waits only 1 s at a time.
        "socket_keepalive": True,
        "socket_connect_timeout": 5,
        "socket_timeout": 10,
    }
# A worker that lost its broker, or starts before it, reconnects for as long as it takes. With
# Celery's default (100 attempts, about 46 minutes of back-off) it then exits ("Unrecoverable
# error") and nothing consumes until it is restarted; 0 would mean no retry at all.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless this is
# set; a new PostgreSQL backend per task costs more than a chunk of timers' own queries. With it the
# fixup recycles the connection every 2 × this many tasks, and aftersales.celery checks it around each
# task as Django does around a request (CONN_MAX_AGE, CONN_HEALTH_CHECKS).
CELERY_DB_REUSE_MAX = 500
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The analytics rollup (analytics.rollup): beat recomputes changed days this often; the dashboard
# recomputes its period's changed days itself before it answers when they hold at most this many tickets.
ANALYTICS_REFRESH_SECONDS = env.int("ANALYTICS_REFRESH_SECONDS", default=15)
ANALYTICS_INLINE_REFRESH_TICKETS = env.int("ANALYTICS_INLINE_REFRESH_TICKETS", default=1000)
ANALYTICS_REFRESH_BUDGET_SECONDS = env.float(
    "ANALYTICS_REFRESH_BUDGET_SECONDS", default=10.0
)  # per beat task
# Installed into django-celery-beat's tables when beat starts; editable in the admin.
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-records": {
        "task": "tickets.tasks.purge_expired_idempotency_records",
        "schedule": 3600.0,
    },
    "sweep-webhook-deliveries": {
        "task": "webhooks.tasks.sweep_webhook_deliveries",
        "schedule": 15.0,
    },
    "sweep-sla-timers": {"task": "sla.tasks.sweep_timers", "schedule": 10.0},
    "sweep-automation-rules": {"task": "automation.tasks.sweep_rules", "schedule": 30.0},
    "refresh-analytics-stats": {
        "task": "analytics.tasks.refresh_stats",
        "schedule": float(ANALYTICS_REFRESH_SECONDS),
    },
}

# --- Domain ---------------------------------------------------------------
# Webhooks must be https; plain http only to loopback, for development (make run sets it).
WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOK_ALLOW_LOOPBACK_HTTP", default=False)
IDEMPOTENCY_TTL_HOURS = 24

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # stderr, so management commands keep stdout for their own output.
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# --- Behind a TLS-terminating proxy (see README, Deployment) ---------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- SLA timers and outbound channels (sla app) ------------------------------
# A claimed timer whose task has not finished after this long goes back to pending.
SLA_CLAIM_TIMEOUT_SECONDS = env.int("SLA_CLAIM_TIMEOUT_SECONDS", default=300)
SLA_TIMER_MAX_ATTEMPTS = env.int("SLA_TIMER_MAX_ATTEMPTS", default=5)
SLA_SWEEP_BATCH = env.int("SLA_SWEEP_BATCH", default=1000)
# Timers per fire_timers task, fired as one batch (a constant number of statements per chunk).
SLA_TASK_CHUNK = env.int("SLA_TASK_CHUNK", default=500)
# One small interface per channel (notifications/channels.py): log by default, Django mail for email.
OUTBOUND_CHANNELS = {
    "sms": env("OUTBOUND_SMS_BACKEND", default="notifications.channels.LogChannel"),
    "call": env("OUTBOUND_CALL_BACKEND", default="notifications.channels.LogChannel"),
    "email": env("OUTBOUND_EMAIL_BACKEND", default="notifications.channels.DjangoEmailChannel"),
}
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="aftersales@localhost")
# Absolute address of the site, for links sent to customers (the satisfaction survey).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
