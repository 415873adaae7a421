"""ingress on the container: Traefik's resources, rendered from the role's own inputs."""

import base64

import bcrypt
import yaml

ROOT = "/etc/onebox/manifests/ingress"
SECRET = "basic-auth-secret.yaml"
PLAIN = {
    "clusterissuer.yaml",
    "networkpolicy-acme-solver.yaml",
    "certificate.yaml",
    "middleware-body-limit.yaml",
    "middleware-https-redirect.yaml",
    "middleware-basic-auth.yaml",
    "serverstransport.yaml",
    "ingressroute.yaml",
    "ingressroute-http.yaml",
}


def manifest(host, name: str) -> dict:
    return yaml.safe_load(host.file(f"{ROOT}/{name}").content_string)


def test_exactly_the_expected_files_with_their_modes(host):
    assert host.file(ROOT).mode == 0o700
    found = set(host.check_output("cd %s && find . -type f -printf '%%P\\n'", ROOT).split())
    assert found == PLAIN | {SECRET}
    assert host.file(f"{ROOT}/{SECRET}").mode == 0o600
    for name in PLAIN:
        assert host.file(f"{ROOT}/{name}").mode == 0o644
        assert "molecule-basic-auth" not in host.file(f"{ROOT}/{name}").content_string


def test_basic_auth_hash_verifies_and_is_bcrypt(host):
    data = {
        key: base64.b64decode(value).decode()
        for key, value in manifest(host, SECRET)["data"].items()
    }
    assert data["auth"] == data["users"]
    user, hashed = data["users"].strip().split(":", 1)
    assert user == "tester"
    assert hashed.startswith("$2y$")
    assert bcrypt.checkpw(b"molecule-basic-auth", hashed.encode())
    assert not bcrypt.checkpw(b"wrong", hashed.encode())


def test_routes_go_to_the_backend_with_the_body_limit(host):
    route = manifest(host, "ingressroute.yaml")
    service = route["spec"]["routes"][0]["services"][0]
    assert (service["name"], service["port"]) == ("guestbook", 80)
    assert route["spec"]["routes"][0]["match"] == "Host(`reader.example.org`)"
    body = manifest(host, "middleware-body-limit.yaml")
    assert body["spec"]["buffering"]["maxRequestBodyBytes"] == 50 * 1024 * 1024
