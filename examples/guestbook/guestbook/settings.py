"""Guestbook settings: only the environment onebox injects, plus GUESTBOOK_* of its own.

Injected: DATABASE_URL, DJANGO_SECRET_KEY (a Secret), DJANGO_ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS,
PORT (read by gunicorn itself), REDIS_URL (when the profile has `redis: true`). Everything else
has a production default.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set; onebox injects it (see README.md).")
    return value


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _database(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must start with postgres://, not {url[:11]!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # An unreachable server must fail /-/ready quickly, not hang it.
        "OPTIONS": {"connect_timeout": 5},
    }


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")
DATABASES = {"default": _database(_required("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = ["django.contrib.contenttypes", "guestbook"]
MIDDLEWARE = [
    # First: probes come over plain HTTP with the pod IP as Host (see health.py).
    "guestbook.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "guestbook.urls"
WSGI_APPLICATION = "guestbook.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]},
    }
]
# The entry count is cached in the database (the release runs createcachetable): no extra
# service, and every gunicorn worker sees the same value.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "guestbook_cache",
    }
}
USE_TZ = True
TIME_ZONE = "UTC"

# HTTPS is terminated by the ingress. These make `manage.py check --deploy --fail-level
# WARNING` (a release command) pass, so a weakened setting stops the release.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^-/"]  # the probes, plain HTTP
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Preloading HSTS is the domain owner's decision and hard to undo: not the app's default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The job queue (jobs.py). onebox injects it when the profile says `redis: true`; without it
# jobs run in the request.
REDIS_URL = os.environ.get("REDIS_URL", "")

GUESTBOOK_PAGE_SIZE = int(os.environ.get("GUESTBOOK_PAGE_SIZE", "20"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUESTBOOK_LOG_LEVEL", "INFO")},
}
