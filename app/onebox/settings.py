"""Settings for onebox, read from the environment (see README.md for the table)."""

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set the environment variable DJANGO_SECRET_KEY to a "
            "long random string (for example from `python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'`), or set DJANGO_DEBUG=1 for local development."
        )
    # Development only: a fresh key per process, so sessions do not survive a restart.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "reader",
]

MIDDLEWARE = [
    # Outermost: after any answer, reads the rest of the request body, so that an early answer
    # (401, 413) reaches a client that writes its whole body before reading (reader/drain.py).
    "reader.drain.DrainBodyMiddleware",
    # First, so that kubelet probes (plain HTTP, Host = the pod IP) are answered before the
    # host check, the HTTPS redirect or any session work.
    "reader.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "onebox.urls"
WSGI_APPLICATION = "onebox.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": {
        **database_from_url(env_str("DATABASE_URL", "postgres://localhost/onebox")),
        # Workers keep their connection between requests. Checking it at the start of every
        # request costs a round trip (measured: a third of a small enrich under CPU
        # contention); without the check a connection broken by a database restart fails one
        # request, and Django then drops it.
        "CONN_MAX_AGE": env_int("DJANGO_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": env_bool("DJANGO_CONN_HEALTH_CHECKS", False),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# ThrottleBackend first: it refuses guesses over the limits before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "reader.throttle.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "vocab-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- HTTPS behind the ingress -----------------------------------------------------------------
# The ingress terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# The kubelet probes these over plain HTTP; a redirect would fail the probe.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Joining the browsers' HSTS preload list is a decision for the owner of the parent domain and
# is hard to undo, so it stays opt-in (DJANGO_HSTS_PRELOAD=1) and its reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Uploads ------------------------------------------------------------------------------------
# Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temp file here: under a read-only root
# filesystem point it at a writable emptyDir.
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR") or None

# --- onebox -------------------------------------------------------------------------------------
ONEBOX_SEGMENTER = env_str("ONEBOX_SEGMENTER", "rjieba")
if ONEBOX_SEGMENTER not in ("rjieba", "jieba"):
    raise ImproperlyConfigured(
        f"ONEBOX_SEGMENTER={ONEBOX_SEGMENTER!r} is not supported; use rjieba or jieba."
    )
# jieba keeps a pickled prefix dictionary here (default: the temp dir); the image builds it.
ONEBOX_JIEBA_CACHE = env_str("ONEBOX_JIEBA_CACHE") or None
ONEBOX_MAX_ENRICH_BYTES = env_int("ONEBOX_MAX_ENRICH_BYTES", 1024 * 1024)
# A 10 MB list imports in about 5-15 s (2 cores); keep within GUNICORN_TIMEOUT.
ONEBOX_MAX_IMPORT_BYTES = env_int("ONEBOX_MAX_IMPORT_BYTES", 32 * 1024 * 1024)
# HSK word list: "2025" (the exam syllabus in force since July 2026) or "2021".
ONEBOX_HSK_STANDARD = env_str("ONEBOX_HSK_STANDARD", "2025")

# Where the memory-mapped copy of the dictionary is built (reader/dictmap.py; default: the
# temp dir, an emptyDir in the cluster): 30 MB, rebuilt from PostgreSQL per release.
ONEBOX_DICTIONARY_DIR = env_str("ONEBOX_DICTIONARY_DIR") or None
# Password guessing (reader/throttle.py): failed checks allowed per account and per client
# address within the window; then 429 with Retry-After until the window ends.
ONEBOX_LOGIN_FAILURES_PER_ACCOUNT = env_int("ONEBOX_LOGIN_FAILURES_PER_ACCOUNT", 10)
ONEBOX_LOGIN_FAILURES_PER_ADDRESS = env_int("ONEBOX_LOGIN_FAILURES_PER_ADDRESS", 50)
ONEBOX_LOGIN_WINDOW_SECONDS = env_int("ONEBOX_LOGIN_WINDOW_SECONDS", 900)
# How many proxies in front of the app append to X-Forwarded-For (the ingress: 1). 0 trusts
# no header: every client is REMOTE_ADDR, which behind the ingress is the ingress itself.
ONEBOX_TRUSTED_PROXIES = env_int("ONEBOX_TRUSTED_PROXIES", 0)
for _name in (
    "ONEBOX_LOGIN_FAILURES_PER_ACCOUNT",
    "ONEBOX_LOGIN_FAILURES_PER_ADDRESS",
    "ONEBOX_LOGIN_WINDOW_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more; unset it for the default.")
if ONEBOX_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("ONEBOX_TRUSTED_PROXIES must be 0 or more (the ingress: 1).")

# The enrich view enforces its own, JSON-reported limit; Django's in-memory body limit must
# not trip first with an HTML 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, ONEBOX_MAX_ENRICH_BYTES)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}
