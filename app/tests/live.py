"""The app under gunicorn, as deployed (the real gunicorn.conf.py, 2 preloaded workers),
against the session's test database: for tests that need real sockets (clients that write
a whole body first, oversize request lines, chunked bodies) and for the browser tests.

Rows these tests need are committed (gunicorn cannot see a test's transaction) and deleted
afterwards; the dictionary is the session's. Tests using these fixtures carry the django_db
mark only so that pytest-django creates the test database; they talk to gunicorn over HTTP.
"""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveApp:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://localhost:{port}"

    def request(self, method: str, path: str, body=None, headers=None, **kwargs):
        """(status, headers, body) from one plain http.client request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, {"Host": "localhost", **(headers or {})}, **kwargs)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@pytest.fixture(scope="session")
def live_app(postgres, django_db_setup, dictionary_dir, tmp_path_factory):
    from django.db import connection

    port = _free_port()
    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onebox.test_settings",
        "ONEBOX_TEST_DATABASE": name,
        "DATABASE_URL": postgres.url(name),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        # Plain HTTP on localhost: no redirect to HTTPS, no HSTS.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_HSTS_SECONDS": "0",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "ONEBOX_DICTIONARY_DIR": str(dictionary_dir),
    }
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=APP_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    app = LiveApp(port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if app.request("GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not become ready; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        app.log = log
        yield app
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _make_user(name: str):
    from django.contrib.auth import get_user_model
    from reader.models import ApiToken

    password = secrets.token_urlsafe(12)
    user = get_user_model().objects.create_user(name, password=password)
    _, token = ApiToken.issue(user)
    return user, password, token


@pytest.fixture(scope="session")
def live_users(live_app, django_db_blocker):
    """Committed users with a password and an API token, {"api": (user, password, token),
    "browser": ...}: made at session scope, outside any test's transaction, so that gunicorn
    sees them; deleted (with their words and tokens) at the end."""
    with django_db_blocker.unblock():
        users = {
            role: _make_user(f"live-{role}-{secrets.token_hex(3)}") for role in ("api", "browser")
        }
    yield users
    with django_db_blocker.unblock():
        for user, _, _ in users.values():
            user.delete()


@pytest.fixture
def live_user(live_users):
    return live_users["api"]
