"""Settings for the Lampung smart-village portal.

One module, every value from the environment. With no variables set the
portal runs embedded: SQLite file, DEBUG on, Celery tasks run in-process.
Production sets DATABASE_URL (PostgreSQL), CELERY_BROKER_URL or REDIS_URL
(Redis), SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    # Only ever used by the embedded mode on a developer's machine.
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-embedded-mode-only-not-for-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    # The project's apps, bottom layer first (README "Layout"; import-linter holds the order).
    "smartvillage",
    "accounts",
    "villages",
    "grants",
    "treasury",
    "rollout",
    "portal",
    "public",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "smartvillage.middleware.PortalLocaleMiddleware",
    "smartvillage.middleware.ApiErrorsAsJsonMiddleware",
    "django.middleware.common.CommonMiddleware",
    "smartvillage.middleware.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "smartvillage.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "smartvillage.middleware.DatabaseUnavailableMiddleware",
    # Turns a login refused by the lockout into the 429 page (accounts.lockout).
    "axes.middleware.AxesMiddleware",
    # Last: chooses the database a request reads (smartvillage/replica.py); its process_exception runs first,
    # so a replica failing under a read is answered from the primary before the 503 above is considered.
    "smartvillage.replica.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "smartvillage.wsgi.application"

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
                "portal.context_processors.demo_data",
            ],
        },
    },
]

# Database: SQLite file unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A reused connection that died while idle (database restart, network drop) is replaced at the
# start of the next request instead of failing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Optional: a PostgreSQL streaming replica of the same database (README "Read replica"). The public pages, the
# dashboards and the API's list and detail reads go there (smartvillage/replica.py); writes, Celery tasks and a
# client's reads after its own write go to the primary. In the test suite the alias mirrors the test database.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    # A replica host that drops packets costs a request at most this long before the primary answers.
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# PostgreSQL's JIT compiles a query whose estimated cost passes a threshold: for the portal's short queries that
# costs more than it saves (the dashboard's trend query, estimated high for its subplans, spent 975 of its 991 ms
# compiling; `make bench`). Off for the portal's own connections, whatever the server's default.
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database.setdefault("OPTIONS", {})["options"] = "-c jit=off"
DATABASE_ROUTERS = ["smartvillage.replica.ReplicaRouter"]
# Past this lag the replica is left aside until it catches up; its state is measured this often per process.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.int("DATABASE_REPLICA_MAX_LAG_SECONDS", default=10)
DATABASE_REPLICA_CHECK_SECONDS = env.int("DATABASE_REPLICA_CHECK_SECONDS", default=5)
# The routes whose GET/HEAD reads may come from the replica (view names, shell-style patterns): the public pages,
# the dashboards, and the API's list and detail reads.
DATABASE_REPLICA_ROUTES = [
    "public:*",
    "home",
    "dashboard:*",
    *(
        f"{name}-{kind}"
        for name in ("regency", "district", "village", "allocation", "grant", "rollout", "report")
        for kind in ("list", "detail")
    ),
    "allocation-ledger",
    "adoption",
    "adoption-history",
    "paid-not-live",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend first: a locked-out client is refused before any password is checked.
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend", "accounts.backends.PortalBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Password guessing (django-axes, see accounts/lockout.py): failed logins are counted per client address
# and account in the database, across the browser login, the admin's login and the API token endpoint.
# The failure that reaches the limit locks that address out of that account for the cool-off; a
# failure while locked out is not recorded (so the lock ends on time and the table stays bounded).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
# Failed logins from one client address over all accounts before the address waits (password spraying).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
# Reverse proxies in front of the portal that append the client's address to X-Forwarded-For. 0: the
# socket's address is the client's (no header is trusted). Also DRF's NUM_PROXIES.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Lockouts only; who logged in when is not kept (the audit trail records changes, not visits).
AXES_DISABLE_ACCESS_LOG = True
# Failures and lockouts are logged (axes) with the client address; the typed username is masked (people
# type passwords into it).
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username"]

# Nothing in the login path uses the cache. If CACHE_URL names a Redis, a stopped or frozen one costs
# a caller at most about a second (connect and read timeouts) instead of hanging it.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"].setdefault("OPTIONS", {}).update(socket_connect_timeout=0.5, socket_timeout=0.5)

# The public pages (/publik/): how long browsers and shared caches may keep a page before revalidating it
# (ETag/Last-Modified, a 304 while the figures are unchanged), and the requests one client address may make
# per minute (0: no limit) before a 429.
PUBLIC_MAX_AGE_SECONDS = env.int("PUBLIC_MAX_AGE_SECONDS", default=300)
PUBLIC_RATE_LIMIT_PER_MINUTE = env.int("PUBLIC_RATE_LIMIT_PER_MINUTE", default=240)

# Internationalisation: Bahasa Indonesia by default, English available.
# Bootstrap names the error style "danger": messages.error() must read as an error, not as plain text.
MESSAGE_TAGS = {40: "danger"}  # django.contrib.messages.constants.ERROR
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# Static files, served by whitenoise (also under gunicorn in production).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Report photos (field capture): the local file system in the embedded mode, S3-compatible storage (django-storages)
# when PHOTO_STORAGE_BUCKET is set. Never served from a public URL: only through the portal's scope-checked view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
PHOTO_STORAGE_BUCKET = env.str("PHOTO_STORAGE_BUCKET", default="")
if PHOTO_STORAGE_BUCKET:
    PHOTO_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PHOTO_STORAGE_BUCKET,
            "endpoint_url": env.str("PHOTO_STORAGE_ENDPOINT_URL", default="") or None,
            "region_name": env.str("PHOTO_STORAGE_REGION", default="") or None,
            "access_key": env.str("PHOTO_STORAGE_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("PHOTO_STORAGE_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("PHOTO_STORAGE_PREFIX", default="report-photos"),
            "default_acl": "private",
            "querystring_auth": True,
            # Names are content hashes: the same name is the same bytes.
            "file_overwrite": True,
        },
    }
else:
    PHOTO_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": MEDIA_ROOT / "report-photos",
            "base_url": None,
            "allow_overwrite": True,
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }
# The largest photo the API takes (bytes, each).
PHOTO_MAX_UPLOAD_BYTES = env.int("PHOTO_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# No more of any uploaded file than this is stored, even for the moment of a request (smartvillage/uploads.py):
# the largest file a view takes (a bank statement, treasury.parsers.common.MAX_FILE_BYTES); each view refuses
# files over its own limit.
FILE_UPLOAD_MAX_BYTES = env.int("FILE_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "smartvillage.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "photos": PHOTO_STORAGE,
    "staticfiles": {
        # The manifest storage needs collectstatic, which production runs and
        # the embedded mode and the tests do not.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# Security: strict in production, relaxed only for the embedded mode.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), in every mode: scripts only from the portal's own static
# files (no inline script, no CDN), nothing framed, forms post only here. Inline style attributes
# stay allowed: Leaflet, htmx and Swagger UI position elements with them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],  # blob: the report form's photo previews, made on the device
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous API request is answered 401 with a
        # WWW-Authenticate header rather than 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "smartvillage.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "smartvillage.api.FilterBackend",  # django-filter's, skipped when the query names no filter
        "smartvillage.api.SearchFilter",  # reports a refused search term under `search`
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Password guessing on the token endpoint is counted by django-axes (above). Any DRF throttle
    # identifies clients by the same trusted-proxy rule (DRF trusts X-Forwarded-For unless this is set).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "smartvillage.errors.exception_handler",
    # JSON only, in every mode: what `make run` answers is what integrations get (errors included);
    # the API is browsed in Swagger UI at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON and form bodies, which smartvillage.middleware.InputGuardMiddleware checks before any view
    # (no multipart: the API takes no files).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lampung Smart Village API",
    "DESCRIPTION": "Registry, grants and rollout of the smart-village programme of Lampung Province (DPMDT).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets come from drf-spectacular-sidecar: no CDN on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "GrantStatusEnum": "grants.models.GrantStatus",
        "AllocationStatusEnum": "grants.models.AllocationStatus",
        "PillarStatusEnum": "rollout.models.PillarStatus",
        "ReportStatusEnum": "rollout.models.ReportStatus",
        "VillageKindEnum": "villages.models.VillageKind",
        "RegencyKindEnum": "villages.models.RegencyKind",
        "RegionLevelEnum": "villages.models.RegionLevel",
        "SnapshotLevelEnum": "rollout.models.SnapshotLevel",
    },
}

# Celery: with no broker configured every task runs eagerly in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or env.str("REDIS_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Results (task state for monitoring) go to the same Redis unless told otherwise.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or CELERY_BROKER_URL or None
CELERY_RESULT_EXPIRES = 24 * 60 * 60
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
# Web requests queue tasks (a verification asks for a recompute): a broker that is down or frozen
# must not hold them. A refused connection fails at once, a frozen broker after two 2 s attempts; the
# request is kept (rollout.services.adoption_recompute_request). The socket timeout stays above
# kombu's 1 s BRPOP wait, so an idle worker keeps its connection.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Run exactly one beat (README "Production"). A second one would send every tick twice: the nightly run then
# recomputes once all the same (the day is claimed: rollout.services.adoption_recompute_nightly), and the
# catch-up queues at most one recompute (its request is claimed too).
CELERY_BEAT_SCHEDULE = {
    # Nightly, so the day's snapshots exist even with no verification, and a lost request is caught up.
    "recompute-adoption-nightly": {
        "task": "rollout.tasks.recompute_adoption_nightly",
        "schedule": crontab(hour=1, minute=0),
    },
    # Soon after a broker outage: queues the recompute a verification could not queue during it.
    "recompute-adoption-catch-up": {
        "task": "rollout.tasks.recompute_adoption_catch_up",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},  # a tick not run before the next one is superseded by it
    },
}
# Verifications ask for a recompute after this delay; the burst in between shares that one run.
ROLLOUT_RECOMPUTE_DELAY_SECONDS = env.int("ROLLOUT_RECOMPUTE_DELAY_SECONDS", default=30)
# A request still pending after this long (its task lost) may be scheduled again.
ROLLOUT_RECOMPUTE_STALE_SECONDS = env.int("ROLLOUT_RECOMPUTE_STALE_SECONDS", default=15 * 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
