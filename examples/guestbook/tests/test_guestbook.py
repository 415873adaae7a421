import os
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from guestbook import jobs
from guestbook.models import Entry

pytestmark = pytest.mark.django_db

HOST = "guestbook.test"


def test_sign_and_read(client, django_capture_on_commit_callbacks):
    page = client.get("/", secure=True, HTTP_HOST=HOST)
    assert page.status_code == 200
    assert b"Guestbook (0 entries)" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/", {"name": "Ada", "message": "hello there"}, secure=True, HTTP_HOST=HOST
        )
    assert response.status_code == 303
    entry_id = int(response["X-Entry-Id"])

    page = client.get("/", secure=True, HTTP_HOST=HOST)
    assert b"Guestbook (1 entry)" in page.content  # the cached count was dropped
    assert b"hello there" in page.content
    data = client.get(f"/entries/{entry_id}.json", secure=True, HTTP_HOST=HOST).json()
    assert data["name"] == "Ada"
    # Without REDIS_URL the job ran in the request, after the commit.
    assert data["words"] == 2
    assert b"2 words" in page.content


def test_invalid_entry_is_refused(client):
    response = client.post("/", {"name": "", "message": "x"}, secure=True, HTTP_HOST=HOST)
    assert response.status_code == 400
    assert Entry.objects.count() == 0


def test_csrf_is_enforced():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/", {"name": "A", "message": "b"}, secure=True, HTTP_HOST=HOST)
    assert response.status_code == 403


def test_plain_http_is_redirected_but_probes_are_not(client):
    response = client.get("/", HTTP_HOST=HOST)
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/"
    # The kubelet: plain HTTP, the pod IP as Host.
    assert client.get("/-/live", HTTP_HOST="10.1.2.3:8080").status_code == 200
    assert client.get("/-/ready", HTTP_HOST="10.1.2.3:8080").json()["ready"] is True


def test_not_ready_without_the_schema(client):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE guestbook_entry RENAME TO guestbook_entry_away")
    response = client.get("/-/ready", HTTP_HOST="10.1.2.3:8080")
    assert response.status_code == 503
    assert client.get("/-/live", HTTP_HOST="10.1.2.3:8080").status_code == 200


def test_deploy_checks_pass():
    # The release runs `check --deploy --fail-level WARNING`: the settings must pass it.
    call_command("check", "--deploy", "--fail-level", "WARNING")


def test_unknown_job_is_refused():
    with pytest.raises(ValueError, match="unknown job"):
        jobs.run(b'{"job": "format_disk"}')


def test_a_job_for_a_deleted_entry_does_nothing():
    jobs.run(b'{"job": "count_words", "entry_id": 123456}')


def test_worker_needs_redis():
    with pytest.raises(CommandError, match="REDIS_URL"):
        call_command("run_worker")


def test_worker_liveness_reads_the_heartbeat(tmp_path):
    heartbeat = tmp_path / "alive"
    env = {**os.environ, "GUESTBOOK_WORKER_HEARTBEAT": str(heartbeat)}

    def probe() -> int:
        command = [sys.executable, "-m", "guestbook.worker_alive"]
        return subprocess.run(command, env=env, capture_output=True).returncode

    assert probe() != 0  # the worker has not started its loop
    heartbeat.touch()
    assert probe() == 0
    stale = time.time() - 121
    os.utime(heartbeat, (stale, stale))
    assert probe() != 0
