"""Fixtures for the API tests: users, their tokens, a small JSON client."""

import json

import pytest
from reader.models import ApiToken


class Api:
    """The Django test client speaking JSON with a bearer token."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def post(self, path: str, data=None, *, raw: bytes | str | None = None):
        body = raw if raw is not None else json.dumps(data)
        return self.client.post(
            path, body, content_type="application/json", secure=True, **self._headers()
        )

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, secure=True, **self._headers())

    def delete(self, path: str):
        return self.client.delete(path, secure=True, **self._headers())

    def upload(self, path: str, name: str, content: bytes, **fields):
        from django.core.files.uploadedfile import SimpleUploadedFile

        files = {"file": SimpleUploadedFile(name, content, content_type="text/plain")}
        return self.client.post(path, {**fields, **files}, secure=True, **self._headers())


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-secret-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-secret-1")


@pytest.fixture
def api(client, alice) -> Api:
    """Alice's authenticated client."""
    return Api(client, ApiToken.issue(alice)[1])


@pytest.fixture
def bob_api(client, bob) -> Api:
    return Api(client, ApiToken.issue(bob)[1])
