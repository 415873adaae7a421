import pytest
from reader.models import ApiToken, VocabWord, hash_token

from tests.conftest import Api

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("post", "/api/v1/enrich", {"texts": ["我"]}),
    ("post", "/api/v1/lookup", {"words": ["我"]}),
    ("post", "/api/v1/vocab/mark", {"changes": [{"word": "我", "status": "known"}]}),
    ("get", "/api/v1/vocab", None),
    ("get", "/api/v1/vocab/export.csv", None),
    ("delete", "/api/v1/tokens/current", None),
]


def _call(api: Api, method: str, path: str, data):
    if method == "post":
        return api.post(path, data)
    return getattr(api, method)(path)


@pytest.mark.parametrize("method, path, data", PROTECTED)
@pytest.mark.parametrize("token", [None, "", "ob_not-a-real-token"])
def test_missing_or_bad_token_is_401(client, method, path, data, token):
    response = _call(Api(client, token), method, path, data)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "token" in response.json()["error"]


def test_import_without_token_is_401(client):
    response = Api(client, None).upload("/api/v1/vocab/import", "w.txt", "我\n".encode())
    assert response.status_code == 401


def test_other_schemes_are_refused(client, alice):
    _, raw = ApiToken.issue(alice)
    response = client.get("/api/v1/vocab", secure=True, HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 401


def test_issue_token_with_password_then_use_and_revoke_it(client, alice):
    anonymous = Api(client, None)
    response = anonymous.post("/api/v1/tokens", {"username": "alice", "password": "alice-secret-1"})
    assert response.status_code == 201
    raw = response.json()["token"]
    assert raw.startswith("ob_") and len(raw) > 40

    # Only the hash is stored.
    stored = ApiToken.objects.get(user=alice)
    assert stored.key_hash == hash_token(raw)
    assert raw not in (stored.key_hash, stored.hint)

    api = Api(client, raw)
    assert api.get("/api/v1/vocab").status_code == 200
    assert api.delete("/api/v1/tokens/current").status_code == 204
    assert api.get("/api/v1/vocab").status_code == 401
    assert not ApiToken.objects.filter(user=alice).exists()


def test_revoking_one_token_keeps_the_others(client, alice):
    first, second = ApiToken.issue(alice)[1], ApiToken.issue(alice)[1]
    assert Api(client, first).delete("/api/v1/tokens/current").status_code == 204
    assert Api(client, first).get("/api/v1/vocab").status_code == 401
    assert Api(client, second).get("/api/v1/vocab").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": "alice-secret-1"},
        {"username": "alice\x00", "password": "alice-secret-1"},
    ],
)
def test_issue_token_with_bad_credentials_is_401(client, alice, body):
    response = Api(client, None).post("/api/v1/tokens", body)
    assert response.status_code == 401
    assert not ApiToken.objects.filter(user=alice).exists()


@pytest.mark.parametrize("body", [{}, {"username": "alice"}, {"username": 1, "password": 2}, []])
def test_issue_token_with_malformed_body_is_400(client, alice, body):
    assert Api(client, None).post("/api/v1/tokens", body).status_code == 400


def test_inactive_users_token_stops_working(api, alice):
    assert api.get("/api/v1/vocab").status_code == 200
    alice.is_active = False
    alice.save()
    assert api.get("/api/v1/vocab").status_code == 401


def test_users_cannot_see_or_change_each_others_words(api, bob_api, alice, bob):
    assert (
        api.post(
            "/api/v1/vocab/mark", {"changes": [{"word": "学习", "status": "known"}]}
        ).status_code
        == 200
    )
    assert (
        bob_api.post(
            "/api/v1/vocab/mark", {"changes": [{"word": "学习", "status": "learning"}]}
        ).status_code
        == 200
    )

    # Bob's mark made his own row; Alice's is untouched.
    assert VocabWord.objects.get(user=alice, word="学习").status == "known"
    assert VocabWord.objects.get(user=bob, word="学习").status == "learning"

    assert [w["status"] for w in api.get("/api/v1/vocab").json()["words"]] == ["known"]
    assert [w["status"] for w in bob_api.get("/api/v1/vocab").json()["words"]] == ["learning"]
    assert (
        bob_api.post("/api/v1/enrich", {"texts": ["学习"]}).json()["words"]["学习"]["status"]
        == "learning"
    )
    assert (
        bob_api.post("/api/v1/lookup", {"words": ["学习"]}).json()["words"]["学习"]["status"]
        == "learning"
    )
    assert "known" not in bob_api.get("/api/v1/vocab/export.csv").getvalue().decode()

    bob_api.upload("/api/v1/vocab/import", "w.txt", "学习,ignored\n".encode())
    assert VocabWord.objects.get(user=alice, word="学习").status == "known"
