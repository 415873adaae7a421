import pytest
from django.core.management import call_command
from django.db import connection
from guestbook.models import Entry

pytestmark = pytest.mark.django_db

HOST = "guestbook.test"


def test_sign_and_read(client):
    page = client.get("/", secure=True, HTTP_HOST=HOST)
    assert page.status_code == 200
    assert b"Guestbook (0 entries)" in page.content

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
