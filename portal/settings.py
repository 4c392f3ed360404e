"""Settings read from the environment (django-environ).

With no DATABASE_URL the portal runs embedded: a SQLite file and Celery tasks executed in-process.
With DATABASE_URL and CELERY_BROKER_URL it uses PostgreSQL and Redis.
"""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Sessions and signed links are signed with SECRET_KEY, and the network tokens' key is derived
# from it unless TOKEN_ENCRYPTION_KEYS is set: a key published in this repository protects
# nothing. Only development (DEBUG=1, `make run`) may run on the built-in one; with DEBUG=0 the
# portal refuses to start without a key of its own (README, «Развёртывание»).
DEVELOPMENT_SECRET_KEY = "dev-insecure-key-change-me-in-production-0123456789"
PUBLISHED_SECRET_KEYS = frozenset({
    DEVELOPMENT_SECRET_KEY,
    "change-me-to-a-long-random-string",  # .env.example and docker-compose.yml of old
    "compose-demo-secret-change-me-0123456789abcdef",
})
SECRET_KEY = env.str("SECRET_KEY", default="").strip() or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in PUBLISHED_SECRET_KEYS | {""}:
    raise ImproperlyConfigured(
        "SECRET_KEY is empty or a key published in the portal's repository, and DEBUG is off: "
        "the portal does not start on it. Set SECRET_KEY in the environment or .env to a long "
        "random string, e.g. python -c \"import secrets; print(secrets.token_urlsafe(50))\" "
        "(README, «Развёртывание»). / SECRET_KEY не задан или взят из репозитория: задайте свой."
    )
# Old keys still accepted for sessions, signed links and token decryption while SECRET_KEY changes.
SECRET_KEY_FALLBACKS = [k.strip() for k in env.list("SECRET_KEY_FALLBACKS", default=[])
                        if k.strip()]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "csp",
    "axes",
    "portal.security.SecurityConfig",
    "institutions",
    "metrics",
    "reports",
    # Development and test tools above the layers.
    "emulator",
    "demo",
]

MIDDLEWARE = [
    # First: headers only our reverse proxy may set are dropped from anyone else's request.
    "portal.security.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.security.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.security.InputGuardMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.security.SecurityLogMiddleware",
    # Last: turns a login refused by django-axes into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "reports.navigation.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo writes from a task thread while pages read: readers do not wait for the
    # writer (WAL), and a writer waits its turn instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes watches authenticate() first; force_login (tests) and API tokens bypass it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Samara")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without `collectstatic` (development, the test suite) there is no STATIC_ROOT: WhiteNoise then
# serves the files from their sources, as under DEBUG, instead of warning about the directory.
STATIC_COLLECTED = STATIC_ROOT.is_dir()
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG or not STATIC_COLLECTED
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

# Uploads: the registry and Table-1 files are small; anything larger is refused before parsing.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# The whole request body (several files at once, API JSON); larger ones get 413 unread.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=50 * 1024 * 1024)
# Every uploaded .xlsx (registry, Table-1 forms) is read within these limits, fixed before a
# byte is inflated (portal/lib/xlsx.py): the archive's total and each member's size as they
# really inflate, its number of members, each sheet's rows and columns and its merged cells.
XLSX_MAX_UNCOMPRESSED_BYTES = env.int("XLSX_MAX_UNCOMPRESSED_BYTES", default=64 * 1024 * 1024)
XLSX_MAX_MEMBER_BYTES = env.int("XLSX_MAX_MEMBER_BYTES", default=32 * 1024 * 1024)
XLSX_MAX_MEMBERS = env.int("XLSX_MAX_MEMBERS", default=1_000)
XLSX_MAX_ROWS = env.int("XLSX_MAX_ROWS", default=20_000)
XLSX_MAX_COLUMNS = env.int("XLSX_MAX_COLUMNS", default=200)
XLSX_MAX_CELLS = env.int("XLSX_MAX_CELLS", default=2_000_000)  # in all sheets together
XLSX_MAX_MERGED_CELLS = env.int("XLSX_MAX_MERGED_CELLS", default=10_000)
# Table-1 forms (about 20 rows by 14 columns) are loaded whole, an object per cell: smaller.
TABLE1_MAX_ROWS = env.int("TABLE1_MAX_ROWS", default=1_000)
TABLE1_MAX_COLUMNS = env.int("TABLE1_MAX_COLUMNS", default=100)
TABLE1_MAX_CELLS = env.int("TABLE1_MAX_CELLS", default=100_000)

# --- Deployment behind HTTPS ------------------------------------------------------------------
# Off for the embedded demo and the test suite (plain http on localhost); production sets HTTPS=1.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# The reverse proxies in front of the portal (docker-compose.yml: nginx), as addresses or
# networks (CIDR). Only a request that comes from one of them has its X-Forwarded-For read (the
# client's address for the login lockout and the logs) and its X-Forwarded-Proto believed.
TRUSTED_PROXIES = [p.strip() for p in env.list("TRUSTED_PROXIES", default=[]) if p.strip()]
if env.bool("BEHIND_PROXY", default=HTTPS or bool(TRUSTED_PROXIES)):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) -----------------------------------------------------
# Scripts only from our own static files, or inline blocks carrying the per-request nonce
# ({{ request.csp_nonce }}). Styles allow inline attributes: templates colour heat-map cells with
# style="", and Swagger UI ships a <style> block; style injection cannot run code.
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

# --- Login throttling (django-axes) -----------------------------------------------------------
# A username+address pair is locked after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES;
# the lock lifts by itself (or `manage.py axes_reset_username <name>`). Other people behind the
# same address are not locked out.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
AXES_COOLOFF_MESSAGE = "Слишком много неудачных попыток входа. Попробуйте позже."
AXES_VERBOSE = False
# X-Forwarded-For only from TRUSTED_PROXIES (see there).
AXES_CLIENT_IP_CALLABLE = "portal.security.client_ip"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Invitation links (Django's password-reset tokens) stop working after this many days.
PASSWORD_RESET_TIMEOUT = env.int("INVITATION_TIMEOUT_DAYS", default=7) * 24 * 3600
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Embedded (no broker): tasks run in a thread of their own after the request's commit, so the
# page that starts a collection or an export answers at once (portal/queue.py).
TASKS_IN_BACKGROUND = env.bool("TASKS_IN_BACKGROUND", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis gives an unacknowledged message back after the visibility timeout; it stays longer than
# any retry's countdown (or a retry waiting in one worker would be handed to a second). A worker
# killed mid-task does not make its work wait that long: a worker that starts re-queues at once
# the collection batches the dead one held (metrics.tasks, on worker_ready).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
REDIS_URL = env.str("REDIS_URL", default=CELERY_BROKER_URL)

# --- Social networks ----------------------------------------------------------------------------
VK_API_BASE_URL = env.str("VK_API_BASE_URL", default="https://api.vk.com/method/")
VK_API_VERSION = env.str("VK_API_VERSION", default="5.199")
# «Подключить VK» (VK ID, PKCE) and «Подключить ОК» (OAuth); the demo points them at the emulator.
VK_OAUTH_AUTHORIZE_URL = env.str("VK_OAUTH_AUTHORIZE_URL", default="https://id.vk.com/authorize")
VK_OAUTH_TOKEN_URL = env.str("VK_OAUTH_TOKEN_URL", default="https://id.vk.com/oauth2/auth")
VK_OAUTH_CLIENT_ID = env.str("VK_OAUTH_CLIENT_ID", default="")
OK_OAUTH_AUTHORIZE_URL = env.str("OK_OAUTH_AUTHORIZE_URL",
                                 default="https://connect.ok.ru/oauth/authorize")
OK_OAUTH_TOKEN_URL = env.str("OK_OAUTH_TOKEN_URL", default="https://api.ok.ru/oauth/token.do")
OK_OAUTH_CLIENT_ID = env.str("OK_OAUTH_CLIENT_ID", default="")
OK_OAUTH_CLIENT_SECRET = env.str("OK_OAUTH_CLIENT_SECRET", default="")
OK_APPLICATION_KEY = env.str("OK_APPLICATION_KEY", default="")
OK_API_BASE_URL = env.str("OK_API_BASE_URL", default="https://api.ok.ru/fb.do")
NETWORK_TIMEOUT_SECONDS = env.float("NETWORK_TIMEOUT_SECONDS", default=10.0)
# What each network allows one token a day, per method (calls; inside VK's `execute` every call
# counts). The portal counts what each token spends, plans a run across the tokens (the run
# page shows the plan) and, when every token's allowance is spent, lets the run wait for the
# next day instead of failing. The defaults are the allowances the emulator enforces
# (emulator/state.py: wall.get 10,000 a day, groups.getById 100,000 …); set the figures the
# networks give your tokens in NETWORK_DAILY_LIMITS_JSON ('{"vk": {"wall.get": 5000}}'), whose
# keys replace the defaults'.
NETWORK_DAILY_LIMITS = {
    "vk": {"groups.getById": 100_000, "utils.resolveScreenName": 10_000, "wall.get": 10_000,
           "stats.get": 5_000},
    "ok": {"group.getInfo": 100_000, "mediatopic.getTopics": 10_000,
           "group.getStatTrends": 5_000},
}
for _network, _limits in env.json("NETWORK_DAILY_LIMITS_JSON", default={}).items():
    NETWORK_DAILY_LIMITS.setdefault(_network, {}).update(_limits)
# A collection batch claimed by a worker and silent for this long is taken as lost (the worker
# died) and re-queued by the periodic recovery; far longer than any batch takes.
COLLECTION_BATCH_TIMEOUT_MINUTES = env.int("COLLECTION_BATCH_TIMEOUT_MINUTES", default=30)
# A batch a transient error stopped is retried after about this long, then twice as long each
# time (with jitter), at most 60 times as long.
COLLECTION_RETRY_SECONDS = env.float("COLLECTION_RETRY_SECONDS", default=10.0)
# Fernet keys for network tokens at rest, newest first: the first encrypts, every one decrypts,
# so a key is rotated by putting a new one first and running `manage.py rotate_token_key`.
# TOKEN_ENCRYPTION_KEY is the one-key form. With neither, a key derived from SECRET_KEY is used
# (keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS always decrypt).
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
TOKEN_ENCRYPTION_KEYS = [k.strip() for k in env.list("TOKEN_ENCRYPTION_KEYS", default=[])
                         if k.strip()] or ([TOKEN_ENCRYPTION_KEY] if TOKEN_ENCRYPTION_KEY else [])

# --- Domain settings ----------------------------------------------------------------------------
REPORT_DEADLINE_DAY = env.int("REPORT_DEADLINE_DAY", default=5)
# Table-1 warnings (need a comment on submit): an indicator growing by more than this share
# month over month (or shrinking by the same factor: 1.0 = "more than doubled or halved"), and
# members falling by more than this share.
REPORT_WARN_JUMP_SHARE = env.float("REPORT_WARN_JUMP_SHARE", default=1.0)
REPORT_WARN_MEMBERS_DROP_SHARE = env.float("REPORT_WARN_MEMBERS_DROP_SHARE", default=0.1)
# Daily reminder e-mails about overdue reports and reports waiting for review (local time).
REPORT_REMINDER_HOUR = env.int("REPORT_REMINDER_HOUR", default=9)
FLAGSHIP_MEMBERS_THRESHOLD = env.int("FLAGSHIP_MEMBERS_THRESHOLD", default=500)
# Which Table-1 values rankings, summaries, charts and exports count: only those of approved
# reports (approved), of accepted and approved ones (accepted) or every value (all). Pages and
# the API may ask for another choice; every answer says which one it counted.
ANALYTICS_REPORT_STATES = env.str("ANALYTICS_REPORT_STATES", default="approved")
# The plausibility guard: a collected members figure that moves in a day by more than both
# thresholds (a share of the previous figure and a number of people) is held for a methodologist.
MEMBERS_JUMP_SHARE = env.float("MEMBERS_JUMP_SHARE", default=0.5)
MEMBERS_JUMP_ABSOLUTE = env.int("MEMBERS_JUMP_ABSOLUTE", default=500)
# Files of finished background exports are deleted after this many days (the job stays, «expired»).
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=7)

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "institutions.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # JSON bodies with integers past 64 bits are refused (400) by the portal's JSON parser.
    "DEFAULT_PARSER_CLASSES": [
        "portal.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.errors.api_exception_handler",
    # Generous limits against runaway clients; counters live in the default cache.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Портал госпабликов — API",
    "DESCRIPTION": "Реестр, показатели Таблицы 1, сбор из VK и OK, рейтинги.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Without deep links Swagger UI puts no link inside each operation's button (axe's
    # nested-interactive); the operations still open and close from the keyboard.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.document_error_responses",
        "portal.api_texts.russian_descriptions",
        "portal.api.english_identifiers",
        "portal.api.json_request_bodies",
    ],
    # One component name per choice set (several models share them).
    "ENUM_NAME_OVERRIDES": {
        "CommunityStateEnum": "institutions.choices.CommunityState",
        "ReportStateEnum": "reports.models.workflow.ReportState",
        "ValueSourceEnum": "metrics.choices.ValueSource",
        "TerritoryKindEnum": "institutions.choices.TerritoryKind",
        "IndicatorEnum": "metrics.choices.Indicator",
        "Table1IndicatorEnum": "metrics.choices.TABLE1_INDICATOR_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Logins, failures, lockouts and 403s are logged once, by portal.security.
        "axes": {"level": "WARNING"},
        "portal.security": {"level": "INFO"},
    },
}
