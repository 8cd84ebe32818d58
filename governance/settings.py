"""Gongzhi settings, read from the environment (see README, "Environment variables").

With nothing set, the site runs on embedded defaults: SQLite, a file cache, Celery on kombu's
filesystem transport and e-mail written to files, all under ``var/``. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis; production also sets ``DEBUG=false``,
``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from governance.env import database_config, redis_url

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("GONGZHI_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

# Only development gets a built-in key; production must bring its own.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="gongzhi-insecure-development-key-change-me")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to 50 or more characters when DEBUG is off."
        )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [],
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Applications --------------------------------------------------------------------------------
INSTALLED_APPS = [
    # Django
    "governance.core.admin_apps.GongzhiAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party
    "rules.apps.AutodiscoverRulesConfig",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "import_export",
    # Gongzhi: the core first, then the wings
    "governance.core",
    "governance.stakeholders",
    "governance.stations",
    "governance.notifications",
    "governance.kpis",
    "governance.cases",
    "governance.proposals",
    "governance.radar",
    "feedback",
    "partners",
    "django_ratelimit",
]
# The load benchmark's baseline endpoints (bench/); never on in production.
BENCHMARK_BASELINES = env.bool("BENCHMARK_BASELINES", default=False)
if BENCHMARK_BASELINES:
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.stakeholders.middleware.UserLanguageMiddleware",
    "governance.stakeholders.middleware.StaffIdleTimeoutMiddleware",
    "governance.stakeholders.middleware.PermissionDeniedAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

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
                "governance.notifications.context_processors.unread",
                "governance.core.context_processors.navigation",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# Data ----------------------------------------------------------------------------------------
DATABASES = {"default": database_config(env, VAR_DIR / "gongzhi.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url(env)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url(env, "REDIS_CACHE_URL") or REDIS_URL,
            "KEY_PREFIX": "gongzhi",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": "gongzhi",
        }
    }

# Rate limits on anonymous ratings and feedback (django-ratelimit) count in the default cache.
# Its checks know Django's own Redis backend only as "not officially supported" (it is atomic:
# INCR); the embedded file cache is not atomic, which a single development machine can live with.
RATELIMIT_USE_CACHE = "default"
FEEDBACK_ANONYMOUS_RATE = env.str("FEEDBACK_ANONYMOUS_RATE", default="10/m")
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + (
    [] if REDIS_URL else ["django_ratelimit.E003"]
)

# Accounts ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "stakeholders.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "stations:home"

ACCOUNT_ADAPTER = "governance.stakeholders.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "governance.stakeholders.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[共治 Gongzhi] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's defaults, stated so that nobody turns them off by accident. They count in CACHES.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Gongzhi 共治"

# Staff sessions end after this much idle time; citizens keep Django's default session age.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)

# Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Static files --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# E-mail --------------------------------------------------------------------------------------
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# Where links in e-mails point: production must name its public address, or every link and
# List-Unsubscribe header would point at localhost.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SITE_URL must be set to the site's public address (https://…).")
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
# A pending delivery not picked up within this long is re-enqueued by the sweep.
NOTIFICATIONS_STALE_SECONDS = env.int("NOTIFICATIONS_STALE_SECONDS", default=300)
# Django's SMTP backend waits forever by default; a hung mail server must fail a send, not eat
# the task's whole time limit again on every retry.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# Proposals -----------------------------------------------------------------------------------
# Supports that oblige the responsible department to answer, and within how many days.
PROPOSALS_SUPPORT_THRESHOLD = env.int("PROPOSALS_SUPPORT_THRESHOLD", default=100)
PROPOSALS_ANSWER_DAYS = env.int("PROPOSALS_ANSWER_DAYS", default=30)
# The author may correct a published proposal for this long; then only withdraw it.
PROPOSALS_EDIT_MINUTES = env.int("PROPOSALS_EDIT_MINUTES", default=30)
# The department hears of an answer due within this many days.
PROPOSALS_DUE_SOON_DAYS = env.int("PROPOSALS_DUE_SOON_DAYS", default=5)

# Cases ---------------------------------------------------------------------------------------
# Reference numbers read CASES_REFERENCE_PREFIX-YYYY-NNNNNN.
CASES_REFERENCE_PREFIX = env.str("CASES_REFERENCE_PREFIX", default="CH")
# Members (admin or staff) of this organisation empty the triage queue.
CASES_TRIAGE_ORGANISATION = env.str("CASES_TRIAGE_ORGANISATION", default="triage")
# A reporter may reopen a resolved case within this many days.
CASES_REOPEN_DAYS = env.int("CASES_REOPEN_DAYS", default=7)
# A year the working-day calendar does not know yet: "weekdays" counts Monday to Friday and
# marks the due dates estimated; "error" refuses to compute them.
CASES_SLA_UNKNOWN_YEAR = env.str("CASES_SLA_UNKNOWN_YEAR", default="weekdays")
if CASES_SLA_UNKNOWN_YEAR not in {"weekdays", "error"}:
    raise ImproperlyConfigured("CASES_SLA_UNKNOWN_YEAR must be 'weekdays' or 'error'.")
# Open311 GeoReport v2: the jurisdiction_id apps must send; empty accepts any (or none).
OPEN311_JURISDICTION_ID = env.str("OPEN311_JURISDICTION_ID", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Gongzhi 共治 <noreply@gongzhi.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security ------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# How many reverse proxies stand in front of the site and append to X-Forwarded-For. One number
# drives every place that needs the client's address (DRF throttles, allauth's rate limits, the
# audit log), which read the address the nearest trusted proxy saw, never one the client sent.
TRUSTED_PROXY_COUNT = env.int(
    "TRUSTED_PROXY_COUNT", default=1 if env.bool("BEHIND_PROXY", default=False) else 0
)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Django's admin sets a few style attributes; scripts never run inline.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# API -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: DRF takes the WWW-Authenticate challenge from the first class, so a bad
        # token is answered 401 (Session has no challenge and would make it 403).
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "governance.core.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "governance.core.schema.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "EXCEPTION_HANDLER": "governance.core.api.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        # Anonymous case reports per address: a mall's shared Wi-Fi is one address for many.
        "case_report": env.str("API_THROTTLE_CASE_REPORT", default="30/hour"),
        # Anonymous ratings and feedback, per address and per device (X-Device-Id / gz_device).
        "feedback_anon": env.str("API_THROTTLE_FEEDBACK", default="10/min"),
        "feedback_device": env.str("API_THROTTLE_FEEDBACK", default="10/min"),
    },
    # Off only for the load benchmark, whose traffic all comes from one address.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ]
    if env.bool("API_THROTTLING", default=True)
    else [],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gongzhi 共治 API",
    "DESCRIPTION": "Stations, services and the co-governance of public services.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets that share a field name, or one set used under two names, get one name each
    # (dotted paths: read when the schema is built, like INSTALLED_APPS).
    "ENUM_NAME_OVERRIDES": {
        "NotificationModeEnum": "governance.notifications.models.Mode",
        "CaseStatusEnum": "governance.cases.models.Status",
        "ReportedFigureStatusEnum": "governance.kpis.models.ReportedFigure.Status",
        "VisitChannelEnum": "governance.stations.models.Channel",
        "RatingLevelEnum": "feedback.models.Level",
        "ProposalStatusEnum": "governance.proposals.models.Status",
        "RadarRunStatusEnum": "governance.radar.models.Run.Status",
        "AnswerStateEnum": "governance.proposals.models.Answer.State",
        "MilestoneStateEnum": "governance.proposals.models.Milestone.State",
        "ResultStateEnum": "governance.proposals.models.Result.State",
        # Keeps the name the cases' co-handler state had before "state" had rivals.
        "StateEnum": "governance.cases.models.CoHandler.State",
        "ResourceKindEnum": "partners.models.Kind",
        "ResourceVisibilityEnum": "partners.models.Visibility",
        "BookingStatusEnum": "partners.models.Booking.Status",
        "CalendarBookingStatusEnum": "partners.serializers.CALENDAR_STATUSES",
        "PledgeStatusEnum": "partners.models.Pledge.Status",
        "AgreementStatusEnum": "partners.models.Agreement.Status",
        "ShiftStatusEnum": "partners.models.VolunteerShift.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.core.schema.allow_blank_query_choices",
    ],
}

# Celery --------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task may run, so a late-acked task is not handed out twice while
        # it is still running; no task uses an ETA or countdown longer than this.
        "visibility_timeout": 3600,
    }
else:
    _queue = VAR_DIR / "celery"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{_queue / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request while the broker is away: fail fast, the sweep retries.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How old the last worker heartbeat may be before /healthz calls the worker stale.
WORKER_HEARTBEAT_SECONDS = 60

# Logging -------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The embedded defaults keep their data under var/; make sure its folders exist before the
# first process (web, worker or beat) writes there.
_folders = (
    []
    if REDIS_URL
    else ["celery/queue", "celery/processed", "celery/results", "celery/control", "cache"]
)
if EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    _folders.append("mail")
for _folder in _folders:
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)
