"""A throwaway PostgreSQL for the session: the reader's helper (app/tmp_postgres.py), imported."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "app"))
from tmp_postgres import TempPostgres  # noqa: E402


@pytest.fixture(scope="session")
def postgres():
    with TempPostgres() as server:
        yield server


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres):
    # pytest-django calls this before it creates the test database.
    from django.conf import settings

    settings.DATABASES["default"].update(
        {"HOST": postgres.host, "PORT": str(postgres.port), "USER": "postgres", "PASSWORD": ""}
    )
