"""Verify the workload roles' effects on the container: the client virtualenv, the rendered
manifests and their modes, the real (not placeholder) secrets, the image tarball."""

import base64
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import bcrypt
import pytest
import yaml

ROOT = "/etc/onebox/manifests"
VENV = "/opt/onebox/kube-venv"
REPO = Path(__file__).resolve().parents[5]
BUDGET = yaml.safe_load((REPO / "inventories/production/group_vars/onebox/memory.yml").read_text())
WORKLOADS = BUDGET["onebox_memory"]["workloads"]

SECRETS = {"postgres/secret.yaml", "app/secret.yaml", "ingress/basic-auth-secret.yaml"}
PLAIN = {
    "kube_client/namespace.yaml",
    "postgres/service.yaml",
    "postgres/networkpolicy.yaml",
    "postgres/statefulset.yaml",
    "app/configmap.yaml",
    "app/service.yaml",
    "app/migrate-job.yaml",
    "app/deployment.yaml",
    # microk8s_channel 1.35: Traefik's resources, not the nginx Ingress.
    "ingress/clusterissuer.yaml",
    "ingress/certificate.yaml",
    "ingress/middleware-body-limit.yaml",
    "ingress/middleware-https-redirect.yaml",
    "ingress/middleware-basic-auth.yaml",
    "ingress/serverstransport.yaml",
    "ingress/ingressroute.yaml",
    "ingress/ingressroute-http.yaml",
}


def manifest(host, name: str) -> dict:
    return yaml.safe_load(host.file(f"{ROOT}/{name}").content_string)


def secret_data(host, name: str) -> dict[str, str]:
    data = manifest(host, name)["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def test_client_virtualenv_has_the_pinned_kubernetes_client(host):
    out = host.check_output(
        "%s/bin/python -c 'import kubernetes, kubernetes.dynamic; print(kubernetes.__version__)'",
        VENV,
    )
    assert out == "34.1.0"
    # The system Python is left alone.
    assert host.run("python3 -c 'import kubernetes'").rc != 0


@pytest.mark.parametrize("role", ["kube_client", "postgres", "app", "ingress"])
def test_manifest_directories_are_root_only(host, role):
    directory = host.file(f"{ROOT}/{role}")
    assert directory.is_directory
    assert directory.user == "root"
    assert directory.mode == 0o700


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_files_holding_secrets_are_owner_only(host, name):
    file = host.file(f"{ROOT}/{name}")
    assert file.user == "root"
    assert file.mode == 0o600
    assert manifest(host, name)["kind"] == "Secret"


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_other_manifests_are_readable_and_hold_no_secret(host, name):
    file = host.file(f"{ROOT}/{name}")
    assert file.mode == 0o644
    assert manifest(host, name)["kind"] != "Secret"
    for secret in ("p@ss/word+1", "molecule-django-secret-key", "molecule-basic-auth"):
        assert secret not in file.content_string


def test_exactly_the_expected_files(host):
    found = set(host.check_output("cd %s && find . -type f -printf '%%P\\n'", ROOT).split())
    assert found == SECRETS | PLAIN


def test_secrets_hold_the_vaulted_values(host):
    assert secret_data(host, "postgres/secret.yaml") == {"POSTGRES_PASSWORD": "p@ss/word+1"}
    app = secret_data(host, "app/secret.yaml")
    assert app["DJANGO_SECRET_KEY"] == "molecule-django-secret-key"
    url = urlsplit(app["DATABASE_URL"])
    # The password survives the URL: '/' and '@' are escaped, as the app's parser expects.
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, "/onebox")
    assert unquote(url.password) == "p@ss/word+1"


def test_basic_auth_hash_verifies_and_is_bcrypt(host):
    data = secret_data(host, "ingress/basic-auth-secret.yaml")
    assert data["auth"] == data["users"]
    user, hashed = data["users"].strip().split(":", 1)
    assert user == "tester"
    assert hashed.startswith("$2y$")
    assert bcrypt.checkpw(b"molecule-basic-auth", hashed.encode())
    assert not bcrypt.checkpw(b"wrong", hashed.encode())


def test_limits_come_from_the_memory_budget(host):
    statefulset = manifest(host, "postgres/statefulset.yaml")
    resources = statefulset["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == WORKLOADS["postgres"]
    deployment = manifest(host, "app/deployment.yaml")
    resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == WORKLOADS["app"]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    job = manifest(host, "app/migrate-job.yaml")
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == WORKLOADS["app-migrate"]


def test_image_tarball_is_copied(host):
    local = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "onebox-app-0.1.0.tar"
    copied = host.file("/var/lib/onebox/images/onebox-app-0.1.0.tar")
    assert copied.mode == 0o644
    assert copied.content_string == local.read_text()
