"""Production settings, checked in fresh processes with a controlled environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from onebox.env import database_from_url, env_bool

APP_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7-" + "k" * 60 + "-not-a-real-key-but-long-and-varied-9f3!",
    "DJANGO_ALLOWED_HOSTS": "onebox.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://onebox.example.org",
    "DATABASE_URL": "postgres://onebox:secret@db.internal:5432/onebox",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONEBOX_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=APP_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "onebox.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_fails_naming_the_variable():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_secret_key():
    result = _manage("check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_database_url_is_parsed():
    db = database_from_url("postgresql://us%40er:p%2Fss@db.example:6543/onebox?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "us@er", "p/ss", "db.example", "6543", "onebox",
    )  # fmt: skip
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": "5"}
    socket = database_from_url("postgres:///onebox?host=/run/postgresql")
    assert socket["HOST"] == "/run/postgresql"


def test_database_url_must_be_postgres():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("mysql://x@y/z")


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", False)
