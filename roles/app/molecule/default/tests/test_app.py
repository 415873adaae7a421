"""Verify the app role's effects on the container: the rendered manifests and their modes, the
real (not placeholder) secrets, everything the reader's profile says, the image tarball."""

import base64
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = "/etc/onebox/manifests/app"
REPO = Path(__file__).resolve().parents[5]
PROFILE = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
SECRETS = {"secret.yaml"}
PLAIN = {
    "configmap.yaml",
    "service.yaml",
    "networkpolicy-web.yaml",
    "release-job.yaml",
    "deployment-web.yaml",
}


def manifest(host, name: str) -> dict:
    return yaml.safe_load(host.file(f"{ROOT}/{name}").content_string)


def test_exactly_the_expected_files_with_their_modes(host):
    directory = host.file(ROOT)
    assert directory.is_directory and directory.user == "root" and directory.mode == 0o700
    found = set(host.check_output("cd %s && find . -type f -printf '%%P\\n'", ROOT).split())
    assert found == SECRETS | PLAIN
    assert host.file(f"{ROOT}/secret.yaml").mode == 0o600
    for name in PLAIN:
        file = host.file(f"{ROOT}/{name}")
        assert file.mode == 0o644
        for secret in ("p@ss/word+1", "molecule-django-secret-key"):
            assert secret not in file.content_string


def test_the_secret_holds_the_vaulted_values(host):
    data = manifest(host, "secret.yaml")["data"]
    values = {key: base64.b64decode(value).decode() for key, value in data.items()}
    assert set(values) == {"DATABASE_URL", "DJANGO_SECRET_KEY"}
    assert values["DJANGO_SECRET_KEY"] == "molecule-django-secret-key"
    url = urlsplit(values["DATABASE_URL"])
    # The password survives the URL: '/' and '@' are escaped, as the app's parser expects.
    assert (url.hostname, url.port, url.path) == ("db", 5432, "/onebox")
    assert unquote(url.password) == "p@ss/word+1"


def test_the_configmap_holds_what_onebox_injects_and_the_profile_env(host):
    data = manifest(host, "configmap.yaml")["data"]
    assert data["DJANGO_ALLOWED_HOSTS"] == "reader.example.org"
    assert data["CSRF_TRUSTED_ORIGINS"] == "https://reader.example.org"
    assert data["PORT"] == str(PROFILE["port"])
    for name, value in PROFILE["env"].items():
        assert data[name] == str(value)


def test_the_deployment_follows_the_profile(host):
    deployment = manifest(host, "deployment-web.yaml")
    assert deployment["metadata"]["name"] == f"{PROFILE['name']}-web"
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == PROFILE["user"]["uid"]
    container = pod["containers"][0]
    web = PROFILE["processes"]["web"]
    assert container["resources"]["limits"]["memory"] == web["memory"]
    assert container["resources"]["requests"]["memory"] == web["memory"]
    assert container["ports"][0]["containerPort"] == PROFILE["port"]
    assert container["livenessProbe"]["httpGet"]["path"] == PROFILE["health"]["liveness"]["path"]
    assert container["readinessProbe"]["httpGet"]["path"] == PROFILE["health"]["readiness"]["path"]
    assert "command" not in container  # the image's CMD
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {p["path"] for p in PROFILE["writable_paths"]}


def test_the_release_job_runs_the_profile_commands_in_order(host):
    job = manifest(host, "release-job.yaml")
    pod = job["spec"]["template"]["spec"]
    steps = pod.get("initContainers", []) + pod["containers"]
    assert [s["name"] for s in steps] == [r["name"] for r in PROFILE["release"]]
    assert [s["command"] for s in steps] == [r["command"] for r in PROFILE["release"]]
    for step in steps:
        assert step["resources"]["limits"]["memory"] == PROFILE["release_memory"]


def test_image_tarball_is_copied(host):
    local = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "onebox-app-0.1.0.tar"
    copied = host.file("/var/lib/onebox/images/onebox-app-0.1.0.tar")
    assert copied.mode == 0o644
    assert copied.content_string == local.read_text()
