"""Settings for the live ticker, read from the environment.

Every setting has a default that is safe and lets the app start on one machine
with SQLite and the in-memory channel layer. The README lists them all.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# The fallback key is marked insecure so that `manage.py check --deploy` flags it;
# any real deployment sets SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "") or "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    # The Django admin with the project's site (name, JavaScript translations).
    "liveblog.apps.NewsroomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # /sitemap.xml (ticker/sitemaps.py); no database tables.
    "django.contrib.sitemaps",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_prose_editor",
    "ticker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ticker.middleware.LanguageIndependentVaryMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "liveblog.middleware.DatabaseUnavailableMiddleware",
    # Sends SECURE_CSP below; the widget's embed view sets its own frame-ancestors.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "liveblog.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "liveblog.asgi.application"

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
                "django.template.context_processors.i18n",
                "ticker.context_processors.live_settings",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# No new database connection per query: a connect costs milliseconds of CPU,
# which a crowd of readers arriving at once cannot afford. PostgreSQL uses
# psycopg's pool (DATABASE_POOL_SIZE connections at most per process, so
# several processes stay inside the server's max_connections); SQLite keeps
# each thread's connection open, checked before reuse.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if "postgresql" in DATABASES["default"]["ENGINE"]:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections instead
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("DATABASE_POOL_SIZE", "8")),
        # A request waits this long for a free connection before failing (503).
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "2")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two editors
    # saving at once queue up instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory: the browser tests' server process opens the same test database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME", str(BASE_DIR / "test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # The socket timeout must outlast channels_redis's 5 s blocking
                # pop, or every idle receive ends in a TimeoutError; connecting
                # gives up fast so an outage is noticed at once.
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 2}
                ],
                "prefix": os.environ.get("CHANNEL_PREFIX", "liveblog"),
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Language and time ------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "de")
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", "") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed file names let browsers and CDNs cache embed.js and the CSS forever.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 300

# --- Security -------------------------------------------------------------------
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# No page may be framed (the CSP twin of X-Frame-Options, which browsers prefer)
# except the widget's embed view, which answers with its own frame-ancestors.
SECURE_CSP = {"frame-ancestors": [CSP.NONE]}
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a decision for the operator, made with SECURE_HSTS_PRELOAD.
    "security.W021",
]

# --- The ticker -------------------------------------------------------------------
# How many changes a reconnecting reader may be sent as catch-up before the
# server tells it to reload the page instead.
TICKER_CATCHUP_LIMIT = int(os.environ.get("TICKER_CATCHUP_LIMIT", "500"))
# Entries per page on the live page and per "load older entries" step.
TICKER_PAGE_SIZE = int(os.environ.get("TICKER_PAGE_SIZE", "20"))
# Seconds between each process's check of the database for changes it may
# have missed (a Redis outage, a write from a process on another layer).
TICKER_RESYNC_SECONDS = float(os.environ.get("TICKER_RESYNC_SECONDS", "5"))
# Sites that may frame the embeddable widget, comma-separated origins such as
# "https://www.example.com"; "*" (the default) lets any site embed it. A
# ticker's own "sites allowed to embed" field overrides this list.
EMBED_ALLOWED_ORIGINS = env_list("EMBED_ALLOWED_ORIGINS", "*")
# How long (seconds) a process trusts its memory of a ticker's newest change
# number when answering pollers that are up to date.
TICKER_POSITION_CACHE_SECONDS = float(os.environ.get("TICKER_POSITION_CACHE_SECONDS", "1"))
# max-age of the changes endpoint, so a CDN or proxy answers the crowd of
# up-to-date pollers (who all ask for the same URL) for this many seconds.
TICKER_POLL_CACHE_SECONDS = int(os.environ.get("TICKER_POLL_CACHE_SECONDS", "2"))
# Seconds between polls of the changes endpoint by readers without WebSockets.
TICKER_POLL_SECONDS = float(os.environ.get("TICKER_POLL_SECONDS", "10"))
# Longest (seconds) an editor's save waits for the broadcast to Redis; a slower
# send finishes in the background, a failed one reaches readers by resync.
TICKER_BROADCAST_WAIT = float(os.environ.get("TICKER_BROADCAST_WAIT", "0.1"))
# Largest text frame a reader may send; larger frames close the socket (4413).
TICKER_MAX_CLIENT_FRAME = int(os.environ.get("TICKER_MAX_CLIENT_FRAME", "1024"))
# Frames a reader may send per minute (the page pings every 25 s); more closes it (4429).
TICKER_MAX_CLIENT_FRAMES_PER_MINUTE = int(
    os.environ.get("TICKER_MAX_CLIENT_FRAMES_PER_MINUTE", "30")
)

# --- Search engines, social networks, feed readers ------------------------------------
# The publication's name: og:site_name on shared links, the Google News
# sitemap's publication name and the articles feed's title.
PUBLISHER_NAME = os.environ.get("PUBLISHER_NAME", "Liveticker")
# The image social networks show for a page without a photo of its own: a path
# under the static files or an absolute https:// address. 1200 x 630 pixels,
# PNG or JPEG (no network shows SVG); its alt text is PUBLISHER_NAME, so it
# should show that name.
SHARE_IMAGE = os.environ.get("SHARE_IMAGE", "ticker/share.png")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "ticker": {
            "handlers": ["console"],
            "level": os.environ.get("LOG_LEVEL", "INFO"),
            # daphne configures the root logger too; do not print every line twice.
            "propagate": False,
        },
    },
}
