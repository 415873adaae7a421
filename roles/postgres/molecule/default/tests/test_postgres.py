"""postgres on the container: its manifests, rendered from the role's own inputs."""

import base64

import yaml

ROOT = "/etc/onebox/manifests/postgres"


def manifest(host, name: str) -> dict:
    return yaml.safe_load(host.file(f"{ROOT}/{name}").content_string)


def test_exactly_the_expected_files_with_their_modes(host):
    assert host.file(ROOT).mode == 0o700
    found = set(host.check_output("cd %s && find . -type f -printf '%%P\\n'", ROOT).split())
    assert found == {"secret.yaml", "service.yaml", "statefulset.yaml", "networkpolicy.yaml"}
    assert host.file(f"{ROOT}/secret.yaml").mode == 0o600
    for name in found - {"secret.yaml"}:
        assert host.file(f"{ROOT}/{name}").mode == 0o644
        assert "p@ss/word+1" not in host.file(f"{ROOT}/{name}").content_string


def test_the_secret_holds_the_password(host):
    secret = manifest(host, "secret.yaml")
    assert secret["metadata"]["name"] == "db"
    assert base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode() == "p@ss/word+1"


def test_names_port_and_memory_follow_the_inputs(host):
    service = manifest(host, "service.yaml")
    assert service["metadata"]["name"] == "db"
    assert service["spec"]["ports"][0]["port"] == 5433
    statefulset = manifest(host, "statefulset.yaml")
    assert statefulset["spec"]["serviceName"] == "db"
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "postgres:16.10-bookworm"
    assert container["resources"]["limits"]["memory"] == "768Mi"
    assert container["resources"]["requests"]["memory"] == "768Mi"
    settings = dict(a.split("=", 1) for a in container["args"] if a != "-c")
    assert settings["shared_buffers"] == "192MB"  # a quarter of 768 MiB
    assert settings["port"] == "5433"


def test_only_labelled_clients_are_admitted(host):
    policy = manifest(host, "networkpolicy.yaml")
    sources = policy["spec"]["ingress"][0]["from"]
    assert sources == [{"podSelector": {"matchLabels": {"onebox.io/postgres-client": "true"}}}]
