"""Django settings: everything from the environment (12-factor), SQLite by default.

DUES_DATABASE_URL   sqlite:///path/to/dues.sqlite3 (default: ./var/dues.sqlite3) or
                    postgresql://user@host:5432/name
DUES_SECRET_KEY     signing key for sessions; else the file $DUES_HOME/secret.key (`dues init` writes it);
                    with neither the settings refuse to load (see dues.keyfile)
DUES_DEBUG          1 to run Django in debug mode (never in production)
DUES_ALLOWED_HOSTS  comma-separated host names the web app answers to (default: loopback only; required
                    with DUES_HTTPS=1)
DUES_HTTPS          1 when the app is served over TLS (directly or behind a proxy that sets X-Forwarded-Proto):
                    secure cookies, HSTS and the redirect from http:// (see docs/configuration.md, "Security")
DUES_REDIS_URL      redis://host:6379/0 to share the cache (portal rate limits) between server processes
DUES_PUBLIC_URL     the address customers reach the web app at, for portal links (default http://127.0.0.1:8000)
DUES_PORTAL_IN_MESSAGES  1 to put a customer portal link into reminders and e-mailed statements
DUES_PORTAL_RATE    portal requests allowed per minute per link and per address (default 60)
DUES_PAYMENT_GATEWAY  dotted path of the portal's payment-gateway adapter class (default: none, UPI only)
DUES_STORAGE_DIR    where proofs (PO, challan, proof of delivery) are kept on disk (default: ./var/proofs)
DUES_STORAGE_S3_BUCKET  keep proofs in S3-compatible object storage instead (see docs/configuration.md
                    for DUES_STORAGE_S3_ENDPOINT, _REGION, _ACCESS_KEY, _SECRET_KEY, _PREFIX, _ADDRESSING)
DUES_ATTACHMENT_MAX_MB  the largest proof accepted, in MB (default 20)
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dues import keyfile

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_DB_PATH = Path(os.environ.get("DUES_HOME", "var")).resolve() / "dues.sqlite3"

try:
    SECRET_KEY = keyfile.secret_key(os.environ)  # no built-in fallback key
except keyfile.MissingSecretKey as exc:
    raise ImproperlyConfigured(str(exc)) from None
DEBUG = os.environ.get("DUES_DEBUG", "") == "1"
HTTPS = os.environ.get("DUES_HTTPS", "") == "1"
if HTTPS and not os.environ.get("DUES_ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured("DUES_HTTPS=1 needs DUES_ALLOWED_HOSTS: the host names the app is served at "
                               "(comma-separated, e.g. dues.example.com)")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DUES_ALLOWED_HOSTS", "").split(",") if h.strip()] or [
    "127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "dues.companies",
    "dues.customers",
    "dues.ledger",
    "dues.audit",
    "dues.reporting",
    "dues.risk",
    "dues.integrations",
    "dues.banking",
    "dues.collections",
    "dues.reconciliation",
    "dues.users",
    "dues.billing",
    "dues.credit",
    "dues.attachments",
    "dues.jobs",
    "dues.web",
    "dues.api",
    "dues.portal",
    "ninja",  # the API docs page's Swagger UI from its own static files, not a CDN
    "csp",
]

MIDDLEWARE = [
    "dues.web.request_log.RequestLogMiddleware",  # request id + one log record per request (docs/deployment.md)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dues.web.access.AccessMiddleware",  # who may call which route: the table in dues/web/access.py
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "dues.urls"
WSGI_APPLICATION = "dues.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dues.web.context.desk",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """Django DATABASES entry for a URL; SQLite gets WAL, foreign keys and immediate transactions."""
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # IMMEDIATE: a writing transaction takes the write lock at BEGIN, so two writers queue
            # instead of failing half-way with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    return config


DATABASE_URL = os.environ.get("DUES_DATABASE_URL") or f"sqlite:///{DEFAULT_DB_PATH}"
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# --- Signing in (see docs/security.md) -----------------------------------------------------------------------
# Failed sign-ins are counted in the database by django-axes, per user name and per address (each locks on its
# own); the admin's sign-in is the desk's form, so guesses at either door count together. Admins and AR
# managers may have a TOTP second factor (django-otp; `dues user totp enroll`), required when
# DUES_REQUIRE_TOTP=1. Sessions end DUES_SESSION_HOURS after sign-in or DUES_SESSION_IDLE_MINUTES after the last
# request (dues.users.middleware). The Django admin is served at DUES_ADMIN_PATH, off unless set, and only to
# administrators.
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "django_otp.middleware.OTPMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
                  "dues.users.middleware.SessionLimitsMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": int(os.environ.get("DUES_PASSWORD_MIN_LENGTH", "12"))}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("DUES_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("DUES_LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours, as django-axes reads a number
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the cool-off runs from the lock, as the message says
AXES_LOCKOUT_CALLABLE = "dues.web.views.auth.locked_out"
OTP_TOTP_ISSUER = "dues"
OTP_TOTP_THROTTLE_FACTOR = 0  # wrong codes are counted by django-axes with the wrong passwords instead
DUES_REQUIRE_TOTP = os.environ.get("DUES_REQUIRE_TOTP", "") == "1"
DUES_TOTP_ROLES = ("admin", "ar_manager")
SESSION_COOKIE_AGE = int(float(os.environ.get("DUES_SESSION_HOURS", "8")) * 3600)
DUES_SESSION_IDLE_SECONDS = int(float(os.environ.get("DUES_SESSION_IDLE_MINUTES", "30")) * 60)
DUES_ADMIN_PATH = os.environ.get("DUES_ADMIN_PATH", "").strip().strip("/")
DUES_ADMIN_PATH = "" if DUES_ADMIN_PATH.lower() in ("", "off") else DUES_ADMIN_PATH + "/"
# --- end of signing in ---------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-in"
FORMAT_MODULE_PATH = ["dues.formats"]
TIME_ZONE = os.environ.get("DUES_TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True

DUES_PUBLIC_URL = os.environ.get("DUES_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Secure by default, on plain HTTP too: cookies out of reach of scripts and of other sites' requests, no
# framing, no referrer to other sites (portal links carry their token in the address), no MIME sniffing, and
# a Content-Security-Policy without inline script (every script is a static file; see docs/configuration.md).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # pages carry the token in the form / the hx-headers attribute, not read from the cookie
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}}
if HTTPS:  # served over TLS (DUES_HTTPS=1): secure cookies, HSTS, and http:// redirected to https://
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # a form posted from the public address is trusted even when the proxy passes another Host
    _public = urlsplit(DUES_PUBLIC_URL)
    CSRF_TRUSTED_ORIGINS = [f"https://{_public.netloc}"] if _public.scheme == "https" and _public.netloc else []
DUES_PORTAL_IN_MESSAGES = os.environ.get("DUES_PORTAL_IN_MESSAGES", "") == "1"
DUES_PORTAL_RATE = int(os.environ.get("DUES_PORTAL_RATE", "60"))
DUES_PAYMENT_GATEWAY = os.environ.get("DUES_PAYMENT_GATEWAY", "")

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DUES_STATIC_ROOT", DEFAULT_DB_PATH.parent / "static"))
# whitenoise serves the apps' static files straight from the package: no collectstatic step needed
WHITENOISE_USE_FINDERS = True

# What one import may read (rows after the header; bytes of the file): over either it is refused at once with
# a message, never read until memory runs out. See docs/imports.md.
IMPORT_MAX_ROWS = int(os.environ.get("DUES_IMPORT_MAX_ROWS", "100000"))
IMPORT_MAX_BYTES = int(os.environ.get("DUES_IMPORT_MAX_BYTES", str(64 * 1024 * 1024)))
# An uploaded file over 1 MB is streamed to a temporary file as it arrives, never held in memory; the
# upload views refuse one over its limit (IMPORT_MAX_BYTES, ATTACHMENT_MAX_BYTES) by its size, unread.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # a request body without its files: forms, JSON

REDIS_URL = os.environ.get("DUES_REDIS_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": "dues"} if REDIS_URL else
          {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dues"}}



def proof_storage(env) -> dict:
    """The STORAGES entry for proofs: a local directory, or an S3-compatible bucket when one is named."""
    bucket = env.get("DUES_STORAGE_S3_BUCKET", "").strip()
    if not bucket:
        location = Path(env.get("DUES_STORAGE_DIR") or DEFAULT_DB_PATH.parent / "proofs").resolve()
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(location), "base_url": None, "file_permissions_mode": 0o640,
                            "directory_permissions_mode": 0o750}}
    options = {"bucket_name": bucket, "file_overwrite": True, "default_acl": None, "querystring_auth": True,
               "location": env.get("DUES_STORAGE_S3_PREFIX", "").strip().strip("/")}
    for option, name in (("endpoint_url", "ENDPOINT"), ("region_name", "REGION"), ("access_key", "ACCESS_KEY"),
                         ("secret_key", "SECRET_KEY"), ("addressing_style", "ADDRESSING")):
        value = env.get(f"DUES_STORAGE_S3_{name}", "").strip()
        if value:
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# Proofs (purchase orders, signed challans, proofs of delivery) are content-addressed files in their
# own storage: see dues.attachments and docs/configuration.md.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "proofs": proof_storage(os.environ),
}
ATTACHMENT_MAX_BYTES = int(float(os.environ.get("DUES_ATTACHMENT_MAX_MB", "20")) * 1024 * 1024)

# Logs go to stderr. DUES_LOG_FORMAT=json (the container's default): one JSON object per line with the request
# id, and for each request method, path, status, duration_ms and user (logger dues.request, dues.web.request_log).
# Plain (the laptop's default) logs warnings only unless DUES_LOG_LEVEL says otherwise.
LOG_FORMAT = os.environ.get("DUES_LOG_FORMAT", "plain").strip().lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "dues.web.request_log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "timestamp": True,
                 "reserved_attrs": ["args", "msg", "exc_info", "exc_text", "stack_info", "created", "msecs",
                                    "relativeCreated", "thread", "threadName", "processName", "taskName",
                                    "filename", "module", "pathname", "funcName", "lineno", "levelno"],
                 "rename_fields": {"levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"],
                             "formatter": "json" if LOG_FORMAT == "json" else "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DUES_LOG_LEVEL", "WARNING")},
    "loggers": {"dues.request": {"level": "INFO" if LOG_FORMAT == "json" else
                                 os.environ.get("DUES_LOG_LEVEL", "WARNING")}},
}
# The health endpoints are never redirected to https (with DUES_HTTPS=1): a container's health check
# calls them over plain HTTP (docs/deployment.md).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
