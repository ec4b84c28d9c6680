"""Settings shared by every environment.

Every value that differs between machines comes from the environment through the one
reader below (django-environ): https://django-environ.readthedocs.io/
"""

from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "procedures",
    "dialogues",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, whose check parses the body: oversized uploads are refused unread.
    "procedures.core.middleware.UploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "procedures.core.context_processors.department",
                "procedures.accounts.context_processors.applicant",
            ],
        },
    },
]

# DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/motcua; SQLite file by default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has the web server, the worker and beat writing one file.
    # WAL lets readers run beside the writer; every transaction takes the write lock
    # at BEGIN (IMMEDIATE), so it waits for it up to `timeout` seconds instead of
    # failing with "database is locked" when it upgrades from read to write halfway.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
    )


def database_options(database: dict) -> dict:
    """PostgreSQL: the fixed statements run through procedures/core/prepared.py (and
    only those: the ORM's cursor binds parameters on the client and never prepares)
    become prepared statements after psycopg's 5 runs on a connection, so that
    PostgreSQL stops planning them on every request. Django turns psycopg's preparing
    off unless OPTIONS says otherwise; DATABASE_PREPARED_STATEMENTS=false keeps it off,
    for a pooler that cannot keep prepared statements (PgBouncer in transaction mode
    before 1.21)."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        threshold = 5 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None
        database.setdefault("OPTIONS", {}).setdefault("prepare_threshold", threshold)
    return database


database_options(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Vietnamese first, English second (https://docs.djangoproject.com/en/5.2/topics/i18n/).
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Day-first date input (dd/mm/yyyy) and decimal commas in Vietnamese; Django 5 always
# localises, these modules only add what Django's locale files lack.
FORMAT_MODULE_PATH = ["config.formats"]
# Deadlines are legal times in Vietnam: the zone is fixed, not a setting.
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    # Uploaded dossier files are private: MEDIA is never served under a public URL.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Redis serves as Celery broker and as cache when REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Falls back to local memory with a logged warning when Redis is down, so
            # no public request depends on it (config/cache.py).
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "motcua",
            # Passed to redis-py's connection pool, one per process, kept across
            # requests: a dead or frozen Redis costs a request at most this long.
            # https://redis-py.readthedocs.io/en/stable/connections.html
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CACHE_CONNECT_TIMEOUT", default=0.5),
                "socket_timeout": env.float("REDIS_CACHE_TIMEOUT", default=0.5),
                "health_check_interval": 30,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="motcua@congthuong.example.gov.vn")

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
# Without Redis, `make run` uses kombu's filesystem transport: an embedded broker that
# needs no service (folders under var/celery). Production always sets REDIS_URL.
CELERY_BROKER_DIR = Path(env("CELERY_BROKER_DIR", default=str(BASE_DIR / "var" / "celery")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # Its exchange tables; by default a "control" folder in the working directory.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        # kombu looks for new message files once a second by default and takes one
        # each time: a burst of 60 notifications then trickled out over a minute.
        "polling_interval": 0.1,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Tasks are idempotent, so a task lost with its worker is re-delivered, never dropped.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if not REDIS_URL:
    # kombu's filesystem transport deletes a message file when it hands it out, so
    # prefetching loses nothing a crash would not (the ledger and the drain cover
    # both); with a prefetch of 1 its polling loop took 2 messages every 2 seconds.
    CELERY_WORKER_PREFETCH_MULTIPLIER = 16
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST framework and OpenAPI ---
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Một cửa Công Thương API",
    "DESCRIPTION": "Procedures, working-time calendar and dossiers of the one-stop desk.",
    "VERSION": "1.0.0",
    # Swagger UI and Redoc are served from the drf-spectacular-sidecar package, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Department settings (choices, not law: see docs/architecture.md) ---
# Office hours, as (opening, closing) pairs in local time; 1 working day = their sum.
OFFICE_HOURS = env.json("OFFICE_HOURS", default=[["07:00", "11:30"], ["13:30", "17:00"]])
# Seconds an in-process calendar year stays cached before overrides are re-read.
CALENDAR_CACHE_SECONDS = env.int("CALENDAR_CACHE_SECONDS", default=60)
# Receiving unit code at the head of every dossier code (Circular 01/2018 art. 19).
DOSSIER_UNIT_CODE = env("DOSSIER_UNIT_CODE", default="H56.16")
DEPARTMENT_NAME = env("DEPARTMENT_NAME", default="Sở Công Thương tỉnh Thái Nguyên")
DEPARTMENT_HOTLINE = env("DEPARTMENT_HOTLINE", default="0208 3855 455")
DEPARTMENT_ADDRESS = env(
    "DEPARTMENT_ADDRESS", default="Bộ phận Một cửa, Trung tâm Hành chính công tỉnh Thái Nguyên"
)
DEPARTMENT_HOURS = env("DEPARTMENT_HOURS", default="Thứ Hai - Thứ Sáu: 07:00-11:30, 13:30-17:00")
# Supplement during processing: "restart" counts the time again from zero once the
# dossier is complete (Decree 61/2018 art. 19(4) as amended); "pause" shifts the due
# time by the working time lost. A policy choice, hence a setting.
SUPPLEMENT_POLICY = env("SUPPLEMENT_POLICY", default="restart")
# A dossier received at the desk after this local time is transferred to the processing
# unit by the next working morning instead of the same working day (Decree 61/2018;
# docs/legal-rules.md "Transfer").
TRANSFER_CUTOFF = env("TRANSFER_CUTOFF", default="15:00")
# Public address of the site, used in emails, slips and QR codes.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Citizen portal (public pages: submission, look-up, rating, statistics) ---
# Upload limits (portal issue item 3). Types are checked from the file's content.
PORTAL_UPLOAD_MAX_FILE_MB = env.int("PORTAL_UPLOAD_MAX_FILE_MB", default=10)
PORTAL_UPLOAD_MAX_DOSSIER_MB = env.int("PORTAL_UPLOAD_MAX_DOSSIER_MB", default=50)
PORTAL_UPLOAD_MAX_FILES = env.int("PORTAL_UPLOAD_MAX_FILES", default=20)
PORTAL_UPLOAD_TYPES = env.list(
    "PORTAL_UPLOAD_TYPES", default=["pdf", "jpeg", "png", "docx", "xlsx"]
)
# What a DOCX/XLSX may declare it expands to when opened (zip bombs are refused).
PORTAL_UPLOAD_MAX_UNCOMPRESSED_MB = env.int("PORTAL_UPLOAD_MAX_UNCOMPRESSED_MB", default=100)
# Django's own upload limits (https://docs.djangoproject.com/en/5.2/ref/settings/#file-upload-max-memory-size):
# a request body above FILE_UPLOAD_MAX_MEMORY_SIZE has its files streamed to temporary
# files, so a worker holds at most this much of any upload in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
# The form fields other than files (Django's default, named here because the request
# body limit below adds it to the dossier limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Backstop only: procedures.core.middleware.UploadGuardMiddleware refuses more files than
# PORTAL_UPLOAD_MAX_FILES first, with a page that says so.
DATA_UPLOAD_MAX_NUMBER_FILES = 100
# Rate limits of the public forms (procedures/core/throttle.py), per client address, in the
# rate syntax "N/period" (s, m, h, d; "5/10m" = 5 per 10 minutes). "attempts" counts
# every POST, valid or not (stops floods); "successes" counts only completed ones (the
# quota of an honest applicant, which typos never eat). Override as JSON in the
# environment, whole dictionary.
PORTAL_RATE_LIMITS = env.json(
    "PORTAL_RATE_LIMITS",
    default={
        "submit": {"attempts": "60/h", "successes": "20/h"},
        "supplement": {"attempts": "30/h", "successes": "10/h"},
        "rating": {"attempts": "30/h", "successes": "10/h"},
        "dialogue-registration": {"attempts": "30/h", "successes": "10/h"},
        "dialogue-recommendation": {"attempts": "30/h", "successes": "10/h"},
        "dialogue-manage": {"attempts": "60/h"},
    },
)
# Look-up by code + PIN. Per address: this many wrong attempts are free, then each one
# makes the address wait PORTAL_LOOKUP_BACKOFF_SECONDS, doubling, up to the maximum;
# the count is forgotten after PORTAL_LOOKUP_FORGET_HOURS without a failure. Per
# dossier code (many addresses guessing one PIN): a much higher limit per window, so
# a stranger's wrong PINs do not lock the owner out for long.
PORTAL_LOOKUP_FREE_FAILURES = env.int("PORTAL_LOOKUP_FREE_FAILURES", default=3)
PORTAL_LOOKUP_BACKOFF_SECONDS = env.int("PORTAL_LOOKUP_BACKOFF_SECONDS", default=30)
PORTAL_LOOKUP_BACKOFF_MAX_SECONDS = env.int("PORTAL_LOOKUP_BACKOFF_MAX_SECONDS", default=3600)
PORTAL_LOOKUP_FORGET_HOURS = env.int("PORTAL_LOOKUP_FORGET_HOURS", default=24)
PORTAL_LOOKUP_MAX_FAILURES_PER_CODE = env.int("PORTAL_LOOKUP_MAX_FAILURES_PER_CODE", default=50)
PORTAL_LOOKUP_WINDOW_MINUTES = env.int("PORTAL_LOOKUP_WINDOW_MINUTES", default=60)
# How long a browser session keeps access to a dossier after a correct PIN, and the
# receipt (with the PIN, in a cookie of its own, never in the session) after submitting.
PORTAL_ACCESS_MINUTES = env.int("PORTAL_ACCESS_MINUTES", default=30)
# Reverse proxies in front of the app that append the client address to
# X-Forwarded-For (0: none, the address is REMOTE_ADDR and X-Forwarded-For is ignored).
# The one setting behind the portal throttles, the API throttles (DRF NUM_PROXIES) and
# the staff log-in lock-out (django-axes): see procedures.core.throttle.client_ip and the
# README's deployment section.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Staff admin of dossiers and printable slips ---
# Place printed before the date on the slips (forms of Circular 01/2018/TT-VPCP).
SLIP_PLACE = env("SLIP_PLACE", default="Thái Nguyên")
# The dossier list never counts more rows than this on a filtered page; above it, it
# says "more than N" and asks for a narrower filter (a COUNT(*) over a million rows
# costs more than the page itself). The unfiltered list uses PostgreSQL's estimate.
ADMIN_DOSSIER_COUNT_LIMIT = env.int("ADMIN_DOSSIER_COUNT_LIMIT", default=10000)

# --- Staff dossier API and public look-up (procedures/dossiers/api.py) ---
# Requests per client address to GET /api/v1/dossiers/lookup/, in DRF's rate syntax
# (https://www.django-rest-framework.org/api-guide/throttling/#setting-the-throttling-policy).
DOSSIER_LOOKUP_RATE = env("DOSSIER_LOOKUP_RATE", default="30/min")
# Wrong code+PIN attempts are counted by PORTAL_LOOKUP_* above, for the API as well.
# DRF trusts X-Forwarded-For only as deep as TRUSTED_PROXY_COUNT; its own default
# (None) would let any client choose the address the throttles count.
# https://www.django-rest-framework.org/api-guide/throttling/#how-clients-are-identified
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# One OpenAPI enum per choice set, named after it, instead of Status1aeEnum & co.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DossierStatusEnum": "procedures.core.constants.DossierStatus",
        "ProcedureStatusEnum": "procedures.core.constants.ProcedureStatus",
        "TimeUnitEnum": "procedures.core.constants.TimeUnit",
        "OnTimeResultEnum": "procedures.core.constants.OnTimeResult",
    }
)

# --- Reminders and notifications (procedures/notifications/delivery.py and reminders.py) ---
# Seconds to wait before each new attempt at a message that failed for a transient
# reason (mail server down, timeout, 4xx); after DELIVERY_MAX_ATTEMPTS it is "failed"
# and waits in the admin for "Retry now".
DELIVERY_RETRY_DELAYS = env.list(
    "DELIVERY_RETRY_DELAYS", cast=int, default=[60, 300, 900, 3600, 10800]
)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=6)
# Rows one run of the outbox drain takes (it queues itself again when more remain).
DELIVERY_DRAIN_BATCH = env.int("DELIVERY_DRAIN_BATCH", default=500)
# One SMTP conversation never holds a worker, and the row it locks, longer than this
# (https://docs.djangoproject.com/en/5.2/ref/settings/#email-timeout).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Default times of the reminder sweep, created once as beat rows editable in the admin
# by `manage.py setup_periodic_tasks`; afterwards the admin's values win.
REMINDER_SWEEP_TIMES = env.list("REMINDER_SWEEP_TIMES", default=["07:30", "13:30"])
# `manage.py celery_healthcheck` fails when a message has waited longer than this.
DELIVERY_BACKLOG_ALERT_MINUTES = env.int("DELIVERY_BACKLOG_ALERT_MINUTES", default=15)
# Fail fast when Redis is unreachable: the outbox keeps the message and the request
# goes on (https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html).
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("socket_connect_timeout", 5)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Reports (table 06/VPCP/KSTT, month close, evaluation) ---
# Extra addresses that receive the frozen monthly report besides the directors' accounts.
REPORT_RECIPIENTS = env.list("REPORT_RECIPIENTS", default=[])
# Grading bands of the Circular 01/2018 evaluation (docs/legal-rules.md "Evaluation"):
# [minimum points, band], highest first. Units are graded on the 18-point scale of the
# nine indices (0-2 each), officers on their own indices scaled to 6 points. Kept as
# settings so that a later text can change them without a release.
REPORT_EVALUATION_UNIT_BANDS = env.json(
    "REPORT_EVALUATION_UNIT_BANDS",
    default=[[15, "excellent"], [12, "good"], [9, "fair"], [6, "average"], [0, "weak"]],
)
REPORT_EVALUATION_OFFICER_BANDS = env.json(
    "REPORT_EVALUATION_OFFICER_BANDS",
    default=[[5, "good"], [3.5, "satisfactory"], [0, "unsatisfactory"]],
)

# --- Reminders and notifications (continued) ---
# Publishing gives up at the first refused connection instead of retrying for
# broker_connection_timeout: a dossier change must not wait on a dead Redis, and the
# outbox drain sends what could not be published (procedures/notifications/services.py).
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("max_retries", 0)
# --- Faults (issue 14, docs/reliability.md) ---
# A claim on a message being sent older than this belongs to a dead worker and is taken
# over by the drain: the hard time limit of the longest task, so its claimer is gone.
DELIVERY_CLAIM_TIMEOUT = env.int("DELIVERY_CLAIM_TIMEOUT", default=300)
# How long a short write (claim, mark sent) retries while SQLite says "database is locked".
DELIVERY_DB_RETRY_SECONDS = env.float("DELIVERY_DB_RETRY_SECONDS", default=30)
# A claimed sweep or month close not heard from for this long is resumed by the drain.
SCHEDULED_RUN_LEASE_SECONDS = env.int("SCHEDULED_RUN_LEASE_SECONDS", default=300)
# `celery_healthcheck` fails when messages have been failing at the mail server (pending
# after at least one failed attempt, or failed for good) for longer than this.
DELIVERY_FAILING_ALERT_MINUTES = env.int("DELIVERY_FAILING_ALERT_MINUTES", default=30)
# Publishing a task after a commit (a web request) waits at most this long for Redis,
# connecting and answering; a frozen Redis costs the request this, never a 500.
CELERY_ENQUEUE_TIMEOUT = env.float("CELERY_ENQUEUE_TIMEOUT", default=0.5)
# A worker that could not acknowledge a message (broker connection broken or frozen at
# that moment) stops itself for its supervisor to restart it (config/celery_app.py).
WORKER_EXIT_ON_LOST_ACK = env.bool("WORKER_EXIT_ON_LOST_ACK", default=True)
if REDIS_URL:
    # Every broker client (worker, beat, health check) gives up on a frozen Redis
    # instead of waiting forever on a socket (SIGSTOP keeps TCP connections open).
    # https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-transport-options
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=10),
            "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=5),
            "socket_keepalive": True,
        }
    )
    CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=5)
# Beat and retried tasks: a few quick tries, never an unbounded wait.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}

# --- Dialogues in the OpenAPI schema: one enum per status set, named after it ---
# Every operation documents the errors DRF gives (404 page/object, 400, 401/403).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "procedures.api.schema.add_error_responses",
]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "DialogueSessionStatusEnum": "dialogues.constants.SessionStatus",
        "RegistrationStatusEnum": "dialogues.constants.RegistrationStatus",
        "RecommendationStatusEnum": "dialogues.constants.RecommendationStatus",
    }
)
# The dashboard's covering index includes columns only PostgreSQL can store in an index;
# on SQLite (embedded default) it is a plain index, which is fine at its sizes.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Security (README "Security"; issue 11 items 8-10) ---
INSTALLED_APPS = [
    # The admin site with the staff log-in form (TOTP when the user has a device).
    "config.apps.StaffAdminConfig" if app == "django.contrib.admin" else app
    for app in INSTALLED_APPS
] + ["axes", "django_otp", "django_otp.plugins.otp_totp", "csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
# Last, as django-axes asks: it turns a lock-out raised by its backend into a response.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

# Staff log-in lock-out (django-axes, https://django-axes.readthedocs.io/): failures
# are counted per username AND address, so one person mistyping (or one attacker
# guessing one account) does not lock out the rest of an office behind the same
# address. Locks lift by themselves after the cool-off, or at once when an admin
# deletes the "Access attempts" row (admin) or runs `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("STAFF_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("STAFF_LOGIN_LOCKOUT_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "procedures.core.throttle.client_ip_or_none"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# The database handler: a lock-out must not depend on Redis being up.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Sessions end after STAFF_IDLE_MINUTES without a request (config/sessions.py refreshes
# a used session once a minute), and with the browser. The public look-up grants last
# PORTAL_ACCESS_MINUTES anyway.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#browser-length-sessions-vs-persistent-sessions
# Django's database sessions, read with one fixed statement (config/sessions.py).
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_AGE = env.int("STAFF_IDLE_MINUTES", default=30) * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "config.sessions.IdleSessionMiddleware",
)
SESSION_COOKIE_HTTPONLY = True

# TOTP for staff (django-otp, https://django-otp-official.readthedocs.io/): a user with
# a confirmed TOTP device (added in the admin under "TOTP devices") must type a code
# at log-in; with STAFF_OTP_REQUIRED every staff member must have one.
STAFF_OTP_REQUIRED = env.bool("STAFF_OTP_REQUIRED", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Mot cua Cong Thuong")

# Content-Security-Policy (django-csp 4, https://django-csp.readthedocs.io/): scripts
# only from this site or carrying the request's nonce, no inline event handlers, no
# framing. Inline style attributes are allowed (the admin and a few templates use
# them; they cannot run code). Swagger UI loads from the sidecar package, same origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Online fee payment (procedures/payments; README "Online payment") ---
# "" (no pay button: fees are paid at the desk), "standin" (the local stand-in platform
# under /payments/stand-in/, for development and tests only), "national" (the national
# payment platform at PAYMENT_GATEWAY_URL), or the dotted path of an adapter class.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="")
PAYMENT_GATEWAY_URL = env("PAYMENT_GATEWAY_URL", default="")
PAYMENT_MERCHANT_CODE = env("PAYMENT_MERCHANT_CODE", default=DOSSIER_UNIT_CODE)
# Shared secret of the HMAC-SHA256 signatures, given by the platform at registration.
PAYMENT_SECRET = env("PAYMENT_SECRET", default="")

# --- National public-service portal: dossier sync (procedures/notifications/national_sync.py) ---
# Every status change is queued in the delivery ledger (channel "national") and POSTed
# by the worker to NATIONAL_SYNC_URL with NATIONAL_SYNC_TOKEN, retried like mail.
NATIONAL_SYNC_ENABLED = env.bool("NATIONAL_SYNC_ENABLED", default=False)
NATIONAL_SYNC_URL = env("NATIONAL_SYNC_URL", default="")
NATIONAL_SYNC_TOKEN = env("NATIONAL_SYNC_TOKEN", default="")
NATIONAL_SYNC_TIMEOUT = env.int("NATIONAL_SYNC_TIMEOUT", default=20)
# Our agency code on the national portal (MaDonVi).
NATIONAL_SYNC_AGENCY_CODE = env("NATIONAL_SYNC_AGENCY_CODE", default=DOSSIER_UNIT_CODE)

# Applicant accounts through OpenID Connect (procedures/accounts, README "Applicant
# accounts (OpenID Connect)"). Off, and the sign-in button hidden, until the issuer,
# client id and secret are set. Endpoints come from the issuer's discovery document
# unless all three of authorization, token and JWKS are given.
OIDC_ISSUER = env("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env("OIDC_SCOPES", default="openid profile email phone")
OIDC_DISCOVERY_URL = env("OIDC_DISCOVERY_URL", default="")
OIDC_AUTHORIZATION_ENDPOINT = env("OIDC_AUTHORIZATION_ENDPOINT", default="")
OIDC_TOKEN_ENDPOINT = env("OIDC_TOKEN_ENDPOINT", default="")
OIDC_JWKS_URI = env("OIDC_JWKS_URI", default="")
OIDC_USERINFO_ENDPOINT = env("OIDC_USERINFO_ENDPOINT", default="")
# The callback the provider redirects to, as registered with it; by default this
# site's /oidc/callback/ as the request reached it.
OIDC_REDIRECT_URI = env("OIDC_REDIRECT_URI", default="")
# Claims that carry the citizen ID and the tax code (names differ between providers).
OIDC_CLAIM_ID_NUMBER = env("OIDC_CLAIM_ID_NUMBER", default="identity_number")
OIDC_CLAIM_TAX_CODE = env("OIDC_CLAIM_TAX_CODE", default="tax_code")
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="VNeID")
OIDC_TIMEOUT_SECONDS = env.float("OIDC_TIMEOUT_SECONDS", default=10.0)

# --- Signed results and slips (issue 12 item 1; procedures/core/signing.py) ---
# The department's signing certificate and private key (PEM or DER), the key's
# passphrase, and the issuing CA's certificates to embed. Empty: PDFs are issued
# unsigned and `check --deploy` warns. README "Signing results".
SIGNING_CERT_FILE = env("SIGNING_CERT_FILE", default="")
SIGNING_KEY_FILE = env("SIGNING_KEY_FILE", default="")
SIGNING_KEY_PASSPHRASE = env("SIGNING_KEY_PASSPHRASE", default="")
SIGNING_CA_CHAIN_FILES = env.list("SIGNING_CA_CHAIN_FILES", default=[])

# --- SMS to applicants (issue 12 item 5; procedures/notifications/sms.py) ---
# Like EMAIL_BACKEND: the console backend prints the messages; the HTTP backend posts
# them to the gateway at SMS_GATEWAY_URL with SMS_GATEWAY_TOKEN. README "SMS".
SMS_BACKEND = env("SMS_BACKEND", default="procedures.notifications.sms.ConsoleBackend")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")
# The registered brand name the messages come from.
SMS_SENDER = env("SMS_SENDER", default="SOCONGTHUONG")
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=10)
# Vietnamese without diacritics: a plain (GSM 7-bit) SMS holds 160 characters, a
# Unicode one 70, and many brand-name gateways accept only the former.
SMS_STRIP_ACCENTS = env.bool("SMS_STRIP_ACCENTS", default=True)
