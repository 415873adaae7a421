import pytest
from django.db import OperationalError
from reader import dictionary, segmenter
from reader.models import DictionaryRelease


def test_healthz_needs_no_database_nor_allowed_host_nor_https(client, settings):
    # No django_db mark: any query would raise. The kubelet probes over plain HTTP with the
    # pod IP as Host.
    settings.ALLOWED_HOSTS = ["onebox.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_other_paths_do_redirect_to_https(client, settings):
    settings.ALLOWED_HOSTS = ["onebox.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/vocab/", HTTP_HOST="onebox.example.org")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_readyz_ok_over_plain_http(client, settings):
    settings.ALLOWED_HOSTS = ["onebox.example.org"]
    segmenter.load()
    response = client.get("/readyz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["segmenter"] == segmenter.backend()


@pytest.mark.django_db
def test_readyz_503_without_dictionary(client):
    segmenter.load()
    DictionaryRelease.objects.all().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "load_dictionary" in response.json()["reason"]


@pytest.mark.django_db
def test_readyz_503_without_segmenter(client, monkeypatch):
    monkeypatch.setattr(segmenter, "_cut", None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "segmenter not loaded"


def test_readyz_503_when_database_is_unreachable(client, monkeypatch):
    def unreachable():
        raise OperationalError("connection refused")

    segmenter.load()
    monkeypatch.setattr(dictionary, "is_loaded", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "database unreachable (OperationalError)"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nope", secure=True)
    assert response.status_code == 404
    assert response.json()["error"]
