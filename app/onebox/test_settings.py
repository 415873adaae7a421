"""Settings for the test suite: production settings with test-only keys and fast hashing."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-secret")

from .settings import *  # noqa: E402,F403

# The session fixture in conftest.py points this at a throwaway PostgreSQL.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# A gunicorn started by the tests (tests/live.py) is pointed at the test database here.
DATABASES["default"]["NAME"] = os.environ.get("ONEBOX_TEST_DATABASE", "onebox")  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run without collectstatic, so no manifest.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Serve static files through the finders: no collectstatic output in a test run.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
