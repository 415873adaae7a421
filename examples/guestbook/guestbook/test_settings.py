"""Settings for the unit tests: the production settings with test values for the injected env.

The database itself is the throwaway server of tests/conftest.py.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "unit-tests-only-" + "x7Qp2" * 10)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "guestbook.test")
os.environ.setdefault("CSRF_TRUSTED_ORIGINS", "https://guestbook.test")
os.environ["REDIS_URL"] = ""  # jobs run in the request; the container test covers the queue

from .settings import *  # noqa: E402,F403
