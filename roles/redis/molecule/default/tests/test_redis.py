"""redis on the container: its manifests, rendered from the role's own inputs."""

import base64

import yaml

ROOT = "/etc/onebox/manifests/redis"
PASSWORD = "r3dis/pass+word@Q1"


def manifest(host, name: str) -> dict:
    return yaml.safe_load(host.file(f"{ROOT}/{name}").content_string)


def container(host) -> dict:
    return manifest(host, "statefulset.yaml")["spec"]["template"]["spec"]["containers"][0]


def settings(host) -> dict[str, str]:
    """--name value pairs after the config file."""
    config, *args = container(host)["args"]
    assert config == "/etc/redis/auth/redis.conf"
    return {args[i].removeprefix("--"): args[i + 1] for i in range(0, len(args), 2)}


def test_exactly_the_expected_files_with_their_modes(host):
    assert host.file(ROOT).mode == 0o700
    found = set(host.check_output("cd %s && find . -type f -printf '%%P\\n'", ROOT).split())
    assert found == {"secret.yaml", "service.yaml", "statefulset.yaml", "networkpolicy.yaml"}
    assert host.file(f"{ROOT}/secret.yaml").mode == 0o600
    for name in found - {"secret.yaml"}:
        assert host.file(f"{ROOT}/{name}").mode == 0o644
        assert PASSWORD not in host.file(f"{ROOT}/{name}").content_string


def test_the_secret_holds_the_password_as_a_config_file(host):
    secret = manifest(host, "secret.yaml")
    assert secret["metadata"]["name"] == "queue"
    data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert data == {"REDIS_PASSWORD": PASSWORD, "redis.conf": f'requirepass "{PASSWORD}"\n'}


def test_the_password_reaches_the_server_by_file_and_the_probes_by_environment(host):
    spec = manifest(host, "statefulset.yaml")["spec"]["template"]["spec"]
    redis = spec["containers"][0]
    # The Secret's redis.conf, mounted read-only and readable by the redis group only.
    auth = next(v for v in spec["volumes"] if v["name"] == "auth")
    assert auth["secret"] == {
        "secretName": "queue",
        "items": [{"key": "redis.conf", "path": "redis.conf"}],
        "defaultMode": 0o440,
    }
    assert {"name": "auth", "mountPath": "/etc/redis/auth", "readOnly": True} in redis[
        "volumeMounts"
    ]
    assert redis["env"] == [
        {
            "name": "REDISCLI_AUTH",
            "valueFrom": {"secretKeyRef": {"name": "queue", "key": "REDIS_PASSWORD"}},
        }
    ]
    assert "requirepass" not in settings(host)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = redis[probe]["exec"]["command"]
        assert command == ["sh", "-c", 'test "$(redis-cli -p 6380 ping)" = PONG']


def test_maxmemory_leaves_room_for_the_fork_of_a_rewrite(host):
    args = settings(host)
    # L = 256 MiB: (256 - 16) x 2/5 = 96 MiB; 16 + 1.5 x 96 + 96 = 256 <= 256.
    assert args["maxmemory"] == "96mb"
    assert 16 + 1.5 * 96 + 96 <= 256
    assert args["maxmemory-policy"] == "noeviction"
    assert args["appendonly"] == "yes"
    assert args["appendfsync"] == "everysec"
    assert args["save"] == ""
    assert args["dir"] == "/data"
    assert args["port"] == "6380"
    resources = container(host)["resources"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"] == "256Mi"


def test_names_port_volume_and_hardening_follow_the_inputs(host):
    service = manifest(host, "service.yaml")
    assert service["metadata"]["name"] == "queue"
    assert service["spec"]["ports"][0]["port"] == 6380
    statefulset = manifest(host, "statefulset.yaml")
    assert statefulset["spec"]["serviceName"] == "queue"
    pod = statefulset["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 999
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    redis = pod["containers"][0]
    assert redis["image"] == "redis:7.4.6-bookworm"
    assert redis["ports"][0]["containerPort"] == 6380
    assert redis["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "data", "mountPath": "/data"} in redis["volumeMounts"]
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["storageClassName"] == "microk8s-hostpath"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"


def test_only_labelled_clients_are_admitted(host):
    policy = manifest(host, "networkpolicy.yaml")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "redis"
    assert policy["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"onebox.io/redis-client": "true"}}}],
            "ports": [{"protocol": "TCP", "port": 6380}],
        }
    ]
