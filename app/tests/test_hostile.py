"""A hostile client, through the Django test client: password guessing, token lifetime,
malformed input and errors that must stay JSON under /api/."""

import json

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from reader.models import ApiToken

from tests.conftest import Api

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens"


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password hash computed (verified or made), by the tests' hasher."""
    calls: list[str] = []
    verify, encode = MD5PasswordHasher.verify, MD5PasswordHasher.encode

    def counted_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counted_encode(self, password, salt):
        calls.append("encode")
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counted_verify)
    monkeypatch.setattr(MD5PasswordHasher, "encode", counted_encode)
    return calls


def _guess(client, username="alice", password="wrong", **extra):
    return client.post(
        TOKENS,
        json.dumps({"username": username, "password": password}),
        content_type="application/json",
        secure=True,
        **extra,
    )


# --- 1. password guessing ---------------------------------------------------------------------


def test_token_issue_is_limited_per_account_cheaply_with_retry_after(
    client, alice, settings, hashes
):
    settings.ONEBOX_LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        assert _guess(client).status_code == 401
    hashes.clear()
    refused = _guess(client, password="alice-secret-1")  # even the right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "error" in refused.json()
    assert hashes == [], "a refused attempt must not compute a password hash"


def test_account_limit_holds_across_addresses(client, alice, settings):
    settings.ONEBOX_LOGIN_FAILURES_PER_ACCOUNT = 2
    for n in range(2):
        assert _guess(client, REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    assert _guess(client, REMOTE_ADDR="10.0.0.9").status_code == 429


def test_token_issue_is_limited_per_address(client, alice, settings, hashes):
    settings.ONEBOX_LOGIN_FAILURES_PER_ADDRESS = 4
    for n in range(4):
        assert _guess(client, username=f"nobody{n}").status_code == 401
    hashes.clear()
    assert _guess(client, username="someone-else").status_code == 429
    assert hashes == []
    # Another address is not affected.
    assert _guess(client, username="someone-else", REMOTE_ADDR="10.1.1.1").status_code == 401


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(client, alice, settings):
    settings.ONEBOX_LOGIN_FAILURES_PER_ADDRESS = 2
    settings.ONEBOX_TRUSTED_PROXIES = 0
    # A client cannot dodge the address limit by inventing X-Forwarded-For.
    for n in range(2):
        _guess(client, username=f"x{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert _guess(client, username="y", HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429


def test_behind_one_trusted_proxy_the_forwarded_address_counts(client, alice, settings):
    settings.ONEBOX_LOGIN_FAILURES_PER_ADDRESS = 2
    settings.ONEBOX_TRUSTED_PROXIES = 1
    # The ingress appends the address it saw; anything left of it is the client's claim.
    for n in range(2):
        _guess(client, username=f"x{n}", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    assert _guess(client, username="y", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    # Same ingress (REMOTE_ADDR), another client: not limited.
    assert _guess(client, username="y", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 401


def test_success_clears_the_account_count(client, alice, settings):
    settings.ONEBOX_LOGIN_FAILURES_PER_ACCOUNT = 2
    assert _guess(client).status_code == 401
    assert _guess(client, password="alice-secret-1").status_code == 201
    assert _guess(client).status_code == 401
    assert _guess(client, password="alice-secret-1").status_code == 201


def test_login_form_is_limited_too(client, alice, settings, hashes):
    settings.ONEBOX_LOGIN_FAILURES_PER_ACCOUNT = 2
    form = {"username": "alice", "password": "wrong"}
    for _ in range(2):
        assert client.post("/accounts/login/", form, secure=True).status_code == 200
    hashes.clear()
    page = client.post("/accounts/login/", {**form, "password": "alice-secret-1"}, secure=True)
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "Too many" in page.content.decode()
    assert hashes == []


def test_the_count_lives_in_postgresql(client, alice, settings):
    # Shared by every worker and kept across restarts: a row per account and per address.
    from reader.models import LoginThrottle

    before = LoginThrottle.objects.count()
    _guess(client)
    assert LoginThrottle.objects.count() == before + 2


# --- 2. tokens and password changes ------------------------------------------------------------


def test_password_change_revokes_every_token(client, alice):
    _, first = ApiToken.issue(alice)
    _, second = ApiToken.issue(alice)
    alice.set_password("a-new-secret-2")
    alice.save()
    for raw in (first, second):
        assert Api(client, raw).get("/api/v1/vocab").status_code == 401


def test_saving_a_user_without_a_new_password_keeps_tokens(client, alice):
    _, raw = ApiToken.issue(alice)
    alice.first_name = "Alice"
    alice.save()
    assert Api(client, raw).get("/api/v1/vocab").status_code == 200


def test_password_change_page_revokes_tokens(client, alice):
    _, raw = ApiToken.issue(alice)
    client.force_login(alice)
    page = client.get("/accounts/password_change/", secure=True).content.decode()
    assert "revokes all your API tokens" in page
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "alice-secret-1",
            "new_password1": "quite-another-9",
            "new_password2": "quite-another-9",
        },
        secure=True,
    )
    assert response.status_code == 302
    assert Api(client, raw).get("/api/v1/vocab").status_code == 401


def test_list_and_revoke_tokens_by_api(client, api, alice, bob):
    other, _ = ApiToken.issue(alice)
    bobs, _ = ApiToken.issue(bob)
    listed = api.get(TOKENS)
    assert listed.status_code == 200
    tokens = listed.json()["tokens"]
    assert len(tokens) == 2
    assert {t["id"] for t in tokens} == set(
        ApiToken.objects.filter(user=alice).values_list("id", flat=True)
    )
    assert [t["current"] for t in tokens].count(True) == 1
    assert all(set(t) == {"id", "hint", "created_at", "current"} for t in tokens)
    assert api.delete(f"{TOKENS}/{bobs.id}").status_code == 404  # not hers
    assert ApiToken.objects.filter(id=bobs.id).exists()
    assert api.delete(f"{TOKENS}/{other.id}").status_code == 204
    assert not ApiToken.objects.filter(id=other.id).exists()
    assert api.get(TOKENS).status_code == 200  # her own token still works


def test_tokens_page_lists_creates_and_revokes(client, alice, bob):
    mine, _ = ApiToken.issue(alice)
    bobs, _ = ApiToken.issue(bob)
    client.force_login(alice)
    page = client.get("/tokens/", secure=True).content.decode()
    assert mine.hint in page and bobs.hint not in page
    created = client.post("/tokens/", {"action": "create"}, secure=True)
    assert created.status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 2
    new = ApiToken.objects.filter(user=alice).exclude(id=mine.id).get()
    assert "ob_" in created.content.decode() and new.hint in created.content.decode()
    revoked = client.post("/tokens/", {"action": "revoke", "id": mine.id}, secure=True)
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(id=mine.id).exists()
    client.post("/tokens/", {"action": "revoke", "id": bobs.id}, secure=True)
    assert ApiToken.objects.filter(id=bobs.id).exists()


# --- 4. plausible input that gave 500s ----------------------------------------------------------


@pytest.mark.parametrize(
    "since",
    ["2026-01-01T00:00:00-20:00", "2026-01-01T00:00:00+16:00", "9999-12-31T23:59:59-10:00"],
)
def test_since_with_an_impossible_offset_is_a_json_400(api, since):
    response = api.get("/api/v1/vocab", {"since": since})
    assert response.status_code == 400
    assert "since" in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/enrich", "/api/v1/lookup", "/api/v1/vocab/mark"])
def test_deeply_nested_json_is_a_json_400(api, path):
    response = api.post(path, raw="[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_deeply_nested_json_to_token_issue_is_a_json_400(client):
    response = Api(client, None).post(TOKENS, raw='{"a":' * 50_000 + "1" + "}" * 50_000)
    assert response.status_code == 400


# --- 5. errors under /api/ are JSON --------------------------------------------------------------


def test_bad_host_under_api_is_a_json_400(client):
    response = client.get("/api/v1/vocab", secure=True, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_bad_host_elsewhere_stays_html(client):
    response = client.get("/vocab/", secure=True, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here", secure=True)
    assert response.status_code == 404
    assert "error" in response.json()
