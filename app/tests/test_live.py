"""The app behind gunicorn, as a hostile or naive client meets it (tests/live.py)."""

import json
import socket
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.django_db

ENRICH = "/api/v1/enrich"


def _urlopen(app, path, body: bytes, headers: dict):
    """urllib writes the whole body before it reads the answer, as requests does."""
    request = urllib.request.Request(app.url + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_oversize_body_413_reaches_a_client_that_writes_first(live_app, live_user):
    _, _, token = live_user
    body = b'{"texts": ["' + b"x" * (20 << 20) + b'"]}'
    status, headers, data = _urlopen(
        live_app,
        ENRICH,
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 413
    assert json.loads(data)["limit_bytes"] == 1024 * 1024


def test_unauthenticated_large_body_401_reaches_a_client_that_writes_first(live_app):
    status, _, data = _urlopen(
        live_app, ENRICH, b"[" + b" " * (8 << 20) + b"]", {"Content-Type": "application/json"}
    )
    assert status == 401
    assert "token" in json.loads(data)["error"]


def test_oversize_import_413_reaches_a_client_that_writes_first(live_app, live_user):
    _, _, token = live_user
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="w.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + "学习\n".encode() * (6 << 20)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert 32 << 20 < len(body) < 64 << 20  # over the limit, within what the app drains
    status, _, data = _urlopen(
        live_app,
        "/api/v1/vocab/import",
        body,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert status == 413
    assert "limit" in json.loads(data)["error"]


def test_too_long_request_line_is_a_json_414(live_app):
    status, headers, data = live_app.request("GET", "/api/v1/vocab?q=" + "x" * 9000)
    assert status == 414
    assert headers["Content-Type"] == "application/json"
    assert "error" in json.loads(data)


def test_too_large_header_is_a_json_431(live_app):
    status, headers, data = live_app.request("GET", "/api/v1/vocab", headers={"X-Big": "x" * 9000})
    assert status in (400, 431)
    assert headers["Content-Type"] == "application/json"
    assert "error" in json.loads(data)


def test_bad_host_through_gunicorn_is_json(live_app):
    status, headers, data = live_app.request(
        "GET", "/api/v1/vocab", headers={"Host": "evil.example"}
    )
    assert status == 400
    assert headers["Content-Type"] == "application/json"


def test_chunked_json_body_is_read(live_app, live_user):
    _, _, token = live_user
    body = iter([b'{"texts": ', '["我们学习中文"]}'.encode()])
    status, _, data = live_app.request(
        "POST",
        ENRICH,
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        encode_chunked=True,
    )
    assert status == 200, data
    assert json.loads(data)["segments"] == [["我们", "学习", "中文"]]


def test_chunked_import_is_a_json_411(live_app, live_user):
    _, _, token = live_user
    status, headers, data = live_app.request(
        "POST",
        "/api/v1/vocab/import",
        iter([b"--b\r\n", b"x"]),
        {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=b"},
        encode_chunked=True,
    )
    assert status == 411
    assert "Content-Length" in json.loads(data)["error"]


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET /api/v1/vocab HTTP/9.9\r\n\r\n"])
def test_malformed_requests_get_json(live_app, line):
    with socket.create_connection(("127.0.0.1", live_app.port), timeout=10) as sock:
        sock.sendall(line)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head
    assert "error" in json.loads(body)
