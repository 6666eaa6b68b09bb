"""GreenLoop settings: every value comes from the environment (12-factor).

With no DATABASE_URL the embedded default applies: a private PostgreSQL in `.greenloop/`, DEBUG on,
development keys. With DEBUG off every key must be given and strong, or start-up stops here.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from backend.realtime.redis_hosts import channel_layer_host

BASE_DIR = Path(__file__).resolve().parent.parent


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def _env_set(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (its default applies)."""
    raw = os.environ.get(name)
    return None if raw is None or raw.strip() == "" else raw


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; a value that is neither (a typo such as "ture") stops start-up."""
    raw = _env_set(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value: use one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}."
    )


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_number(name: str, default: int | float, *, minimum: int | float, kind: type = int) -> int | float:
    """A number variable and its lower bound. Anything else (a typo, a negative size, a zero timeout)
    stops start-up and names the variable, instead of a bare ValueError or a service that misbehaves."""
    raw = _env_set(name)
    if raw is None:
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(f"{name}={raw!r} is not {what}.") from None
    if not value >= minimum:  # a NaN fails this too
        raise ImproperlyConfigured(f"{name}={raw!r} is below its minimum of {minimum}.")
    return value


DATABASE_URL = os.environ.get("DATABASE_URL", "")
EMBEDDED = not DATABASE_URL
DEBUG = env_bool("DEBUG", default=EMBEDDED)
REDIS_URL = os.environ.get("REDIS_URL", "")

# Development keys are public by construction: they exist only so the embedded default runs with no
# setup, and the checks below refuse them whenever DEBUG is off.
_DEV_PREFIX = "greenloop-insecure-development-key-"
MIN_KEY_LENGTH = 32


def _key_problem(value: str, min_length: int = MIN_KEY_LENGTH) -> str | None:
    if not value:
        return "is missing"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if value.startswith((_DEV_PREFIX, "django-insecure")) or len(set(value)) < 10:
        return "is a development or low-entropy value"
    return None


def key_setting(name: str, min_length: int = MIN_KEY_LENGTH) -> str:
    value = os.environ.get(name, "")
    if not DEBUG:
        problem = _key_problem(value, min_length)
        if problem:
            raise ImproperlyConfigured(
                f"{name} {problem}. With DEBUG off GreenLoop needs a strong secret of at least "
                f"{min_length} random characters; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
    return value or _DEV_PREFIX + name.lower()


def key_list_setting(name: str) -> list[str]:
    """A key list `current,fallback1,...` so keys rotate without voiding what was signed before."""
    keys = env_list(name)
    if not DEBUG:
        if not keys:
            raise ImproperlyConfigured(f"{name} is missing: give a comma-separated key list, newest first.")
        for index, key in enumerate(keys):
            problem = _key_problem(key)
            if problem:
                raise ImproperlyConfigured(f"{name} entry {index} {problem}.")
    return keys or [_DEV_PREFIX + name.lower()]


# Django's own deployment check asks 50 characters of SECRET_KEY.
SECRET_KEY = key_setting("SECRET_KEY", min_length=50)
JWT_SIGNING_KEY = key_setting("JWT_SIGNING_KEY")
KIOSK_MASTER_KEY = key_setting("KIOSK_MASTER_KEY")
CODE_KEYS = {
    "bin": key_list_setting("CODE_KEYS_BIN"),
    "kiosk_session": key_list_setting("CODE_KEYS_KIOSK_SESSION"),
    "resident": key_list_setting("CODE_KEYS_RESIDENT"),
    "voucher": key_list_setting("CODE_KEYS_VOUCHER"),
}

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or (
    ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is missing: list the host names GreenLoop answers to.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "channels",
    "procrastinate.contrib.django",
    "backend.jobs",
    "backend.audit",
    "geo",
    "accounts",
    "backend.codes",
    "backend.realtime",
    "rewards",
    "sorting",
    "kiosks",
    "stats",
    "api",
    "demo",
]

MIDDLEWARE = [
    # First, so everything after it (request logs included) sees the real client address.
    "backend.client_address.ClientAddressMiddleware",
    "backend.observability.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "api.middleware.ApiGuardMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Inside everything that names the client and the request, around every view.
    "backend.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Sends the policies views ask for (the dashboard's); SECURE_CSP stays empty for the rest.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if EMBEDDED:
    from backend import embedded

    _database = dj_database_url.parse(embedded.database_url())
else:
    _database = dj_database_url.parse(DATABASE_URL)
_database["CONN_MAX_AGE"] = env_number("DATABASE_CONN_MAX_AGE", 60, minimum=0)
_database["CONN_HEALTH_CHECKS"] = True
if env_bool("DATABASE_POOL", default=False):
    # psycopg's pool replaces persistent connections; Django requires CONN_MAX_AGE 0 with it. Health
    # checks would cost a round trip on every checkout; the pool discards broken connections itself.
    _database["CONN_MAX_AGE"] = 0
    _database["CONN_HEALTH_CHECKS"] = False
    _pool_min = env_number("DATABASE_POOL_MIN", 2, minimum=0)
    _database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": _pool_min,
        "max_size": env_number("DATABASE_POOL_MAX", max(20, _pool_min), minimum=max(1, _pool_min)),
        "timeout": 10,
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "backend.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            # A cache call must never hold a request for long: past these it falls back to memory.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [channel_layer_host(REDIS_URL)]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
# Every sign-in path (API token, dashboard, admin) goes through the lockout (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend"]
LOGIN_LOCKOUT = {
    "account_failures": env_number("LOGIN_LOCKOUT_ACCOUNT_FAILURES", 10, minimum=1),
    "address_failures": env_number("LOGIN_LOCKOUT_ADDRESS_FAILURES", 30, minimum=1),
    "window_seconds": env_number("LOGIN_LOCKOUT_WINDOW", 900, minimum=1),
    "cooloff_seconds": env_number("LOGIN_LOCKOUT_COOLOFF", 900, minimum=1),
}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("phone", "display_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "backend" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Both roots are configurable because an installed (non-editable) GreenLoop lives in site-packages,
# which is neither writable at run time nor where an image keeps its build output.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Development serves straight from the apps' folders (decided here, not from the DEBUG that the test
# runner turns off); production only the hashed copies `collectstatic` listed in its manifest.
SERVESTATIC_USE_FINDERS = DEBUG
SERVESTATIC_AUTOREFRESH = DEBUG
GREENLOOP_DATA_DIR = Path(os.environ.get("GREENLOOP_DATA_DIR", BASE_DIR / ".greenloop"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", GREENLOOP_DATA_DIR / "media"))

# Bodies: JSON stays small; multipart photos are capped separately by the sorting rules.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
API_MAX_BODY_BYTES = env_number("API_MAX_BODY_BYTES", 8 * 1024 * 1024, minimum=1)
API_MAX_JSON_DEPTH = 32

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": os.environ.get("THROTTLE_LOGIN", "10/min"),
        "register": os.environ.get("THROTTLE_REGISTER", "5/min"),
        # The public supervision data is unauthenticated: one client's burst must not load the database.
        "public": os.environ.get("THROTTLE_PUBLIC", "60/min"),
    },
}

SIMPLE_JWT = {
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=14),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "GreenLoop API",
    "DESCRIPTION": "Household waste sorting and recycling incentives: residents, kiosks, rewards, statistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.declare_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "BinStatusEnum": "sorting.models.Bin.Status",
        "DropStatusEnum": "sorting.models.Drop.Status",
        # Statistics' destinations add licensed hazardous treatment to the carbon vocabulary's.
        "DestinationEnum": "backend.categories.Destination",
        "StatsDestinationEnum": "stats.models.Destination",
    },
}

LOGIN_URL = "/admin/login/"

# Production hardening; `manage.py check --deploy` stays clean with DEBUG off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
    },
}

# -- stats --
# Figures drawn from fewer registered households than this are never shown (dashboard, public page).
STATS_MIN_CELL_HOUSEHOLDS = env_number("STATS_MIN_CELL_HOUSEHOLDS", 5, minimum=1)

# -- sorting --
# Photos a resident may attach per hour: each one is decoded, the costliest step of a drop.
SORTING_PHOTOS_PER_HOUR = env_number("SORTING_PHOTOS_PER_HOUR", 20, minimum=1)

# -- kiosks: how deposits are dated and counted against the caps --
# A kiosk's clock may be this far off the server's when it dates a deposit against a resident code's
# or a session's window.
DEPOSIT_CLOCK_TOLERANCE_SECONDS = env_number("DEPOSIT_CLOCK_TOLERANCE_SECONDS", 300, minimum=1)
# Deposits of one material by one resident within this many minutes of the first are one bag for
# points, so splitting a bag into many small deposits neither gains nor loses a point to rounding.
DEPOSIT_MERGE_WINDOW_MINUTES = env_number("DEPOSIT_MERGE_WINDOW_MINUTES", 15, minimum=0)
# Points one upload (a deposit or a batch) may credit a household for deposits dated before the
# upload's day: each day has its own caps, and this keeps a backlog from filling many past days at once.
BACKDATED_POINTS_PER_UPLOAD = env_number("BACKDATED_POINTS_PER_UPLOAD", 500, minimum=0)
# Under ASGI a plain signed deposit is answered on the event loop in one statement (api/deposit_edge.py);
# off, every deposit goes through Django's view, which answers identically at several times the cost.
DEPOSIT_EDGE = env_bool("DEPOSIT_EDGE", default=True)
# That path's own autocommit connections per server process (backend/async_database.py), beside
# Django's; past the timeout (seconds) a deposit waits for one no longer and Django answers it.
ASYNC_DATABASE_POOL_MAX = env_number("ASYNC_DATABASE_POOL_MAX", 8, minimum=1)
ASYNC_DATABASE_POOL_TIMEOUT = env_number("ASYNC_DATABASE_POOL_TIMEOUT", 5.0, minimum=0.1, kind=float)
# Server-side prepared statements on those connections; off behind a pooler that cannot keep them
# (PgBouncer in transaction mode before 1.21).
ASYNC_DATABASE_PREPARE = env_bool("ASYNC_DATABASE_PREPARE", default=True)

# -- households --
# A household invitation code stays valid this many hours after a member issues it.
HOUSEHOLD_INVITATION_HOURS = env_number("HOUSEHOLD_INVITATION_HOURS", 48, minimum=1)

# -- rewards --
# How far before "now" a new point-rules version may say it starts: the request's own latency, no more.
# Such a version starts at the moment it is written, so nothing done before it is re-rated.
POINT_RULES_NOTICE_SECONDS = env_number("POINT_RULES_NOTICE_SECONDS", 60, minimum=0)
# Each process keeps a city's rule versions this long; a new version starts no sooner than this after
# it is written, so every process already holds it when it starts and all rate alike.
POINT_RULES_PROPAGATION_SECONDS = env_number("POINT_RULES_PROPAGATION_SECONDS", 30, minimum=0)

# -- accounts --
# The load balancers whose X-Forwarded-For is believed (addresses or CIDR networks, comma-separated).
# Empty trusts no forwarded header: the socket address is the client. ClientAddressMiddleware puts the
# real address in REMOTE_ADDR, and DRF's throttles read REMOTE_ADDR alone (NUM_PROXIES 0), never the
# client-written left end of the header.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
REST_FRAMEWORK["NUM_PROXIES"] = 0

# -- operations: logs, metrics, jobs --
from backend.observability.logs import logging_config  # noqa: E402

# JSON lines for log collectors in production; plain lines on a laptop. Both carry the request id.
LOGGING = logging_config(
    json_lines=env_bool("LOG_JSON", default=not DEBUG), level=os.environ.get("LOG_LEVEL", "INFO")
)
# /metrics answers these networks (the direct peer address) or a bearer token, nobody else.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(item, strict=False)
    for item in (env_list("METRICS_ALLOWED_ADDRESSES") or ["127.0.0.1/32", "::1/128"])
]

# A kiosk pickup line further than this share from what its deposits weighed is flagged and alerted.
PICKUP_TOLERANCE = env_number("PICKUP_TOLERANCE", 0.05, minimum=0, kind=float)
# A hazardous waste manifest still open this many days after the hand-over is alerted (check_manifests).
MANIFEST_OVERDUE_DAYS = env_number("MANIFEST_OVERDUE_DAYS", 7, minimum=1)

# Writes that change no city data, only the caller's own sign-in: the audit trail leaves them out.
AUDIT_EXEMPT_ROUTES = frozenset(
    {
        "api:register",
        "api:token",
        "api:token-refresh",
        "api:logout",
        "api:ws-ticket",
        "admin:logout",
        "admin:login",
    }
)
# A kiosk's signed writes recorded in the trail, with the kiosk as actor: a pickup hands waste over
# and may raise a shrinkage alert, a few times a week per kiosk. Deposits, heartbeats and the
# deposit sessions are many a minute and are their own record (see docs/governance.md).
AUDIT_KIOSK_ROUTES = frozenset({"api:kiosk-pickups"})
# Commands that build or serve the installation rather than change its data (migrations, fixtures,
# the demo, the server and the test runner): the trail would only repeat the deployment.
AUDIT_UNRECORDED_COMMANDS = frozenset(
    {
        "migrate",
        "makemigrations",
        "load_reference_data",
        "load_demo_data",
        "runserver",
        "test",
        "shell",
        "collectstatic",
        "flush",
        "check",
        "createcachetable",
        "compilemessages",
        "makemessages",
    }
)
# Scheduled jobs that only keep technical tables tidy or rebuild derived figures, many times an hour:
# purging expired socket tickets and kiosk nonces, and refreshing the statistics rollups (every five
# seconds, from rows that are themselves recorded). Every other job that changes data leaves a row.
AUDIT_UNRECORDED_JOBS = frozenset({"purge_ws_tickets", "purge_kiosk_nonces", "refresh_rollups"})
