"""Test fixtures: a real PostgreSQL started for the session, the dictionary loaded once."""

import time

import pytest
from django.core.management import call_command
from tmp_postgres import TempPostgres

# gunicorn serving the test database, for tests that need real sockets or a browser.
pytest_plugins = ["tests.live"]


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL for this test session; stopped and deleted afterwards, also when
    tests fail."""
    with TempPostgres() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def dictionary_dir(tmp_path_factory):
    """The dictionary map of this session in its own directory (tests/live.py passes it to
    gunicorn), never a file left by an earlier session or older code."""
    from django.conf import settings

    path = tmp_path_factory.mktemp("dictionary")
    settings.ONEBOX_DICTIONARY_DIR = str(path)
    return path


@pytest.fixture(scope="session")
def django_db_modify_db_settings(postgres):
    # pytest-django calls this before creating the test database. The settings dicts are the
    # ones Django's connection handler holds, so updating them in place is enough.
    from django.conf import settings

    settings.DATABASES["default"].update(
        {"HOST": postgres.host, "PORT": str(postgres.port), "USER": "postgres", "PASSWORD": ""}
    )


_full_load: dict[str, float] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the full dictionary once; tests run in transactions on top of it."""
    started = time.monotonic()
    with django_db_blocker.unblock():
        call_command("load_dictionary", verbosity=0)
    _full_load["seconds"] = time.monotonic() - started
    # The dictionary map, built once now, so that no test pays for it in its query count.
    from reader import dictmap

    with django_db_blocker.unblock():
        assert dictmap.load() is not None


@pytest.fixture(scope="session")
def full_load_seconds(django_db_setup) -> float:
    """How long the session's load of the whole dictionary took."""
    return _full_load["seconds"]
