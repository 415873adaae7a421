"""The redis role rendered on the controller through the wiring: the cache mode (no
persistence), switching between a cache and a queue, and a second run changing nothing.
roles/redis/molecule/default covers the queue mode on a harness container."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import yaml
from conftest import REPO, run_playbook

PASSWORD = "cache-password-0123456789"
SHARED = {
    "service": "redis",
    "port": 6379,
    "image": "redis:7.4.6-bookworm",
    "client_label": "onebox.io/redis-client",
}


def render(out: Path, persistence: bool, policy: str, limit: str = "128Mi"):
    memory = {
        "system_reserved": "256Mi",
        "kube_reserved": "640Mi",
        "eviction_hard": "100Mi",
        "eviction_soft": "200Mi",
        "addons": {},
        "workloads": {"redis": limit},
    }
    result = run_playbook(
        REPO / "tests/playbooks/redis_render.yml",
        "-i",
        "localhost,",
        extra_vars={
            "redis_test_out": str(out),
            "vault_redis_password": PASSWORD,
            "onebox_redis": {**SHARED, "persistence": persistence, "maxmemory_policy": policy},
            "onebox_memory": memory,
        },
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def changed(result) -> int:
    return int(re.search(r"changed=(\d+)", result.stdout).group(1))


def load(out: Path, name: str) -> dict:
    return yaml.safe_load((out / name).read_text())


def settings(container: dict) -> dict[str, str]:
    _, *args = container["args"]
    return {args[i].removeprefix("--"): args[i + 1] for i in range(0, len(args), 2)}


def test_a_cache_is_a_deployment_with_nothing_on_disk(tmp_path):
    out = tmp_path / "redis"
    render(out, persistence=False, policy="allkeys-lru")
    files = {p.name for p in out.iterdir()}
    assert files == {"deployment.yaml", "service.yaml", "networkpolicy.yaml", "secret.yaml"}
    deployment = load(out, "deployment.yaml")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    # The Secret's config file only: no data volume, no emptyDir.
    assert [v["name"] for v in pod["volumes"]] == ["auth"]
    container = pod["containers"][0]
    assert [m["name"] for m in container["volumeMounts"]] == ["auth"]
    args = settings(container)
    # No fork: (128 - 16) x 2/3 = 74 MiB; 16 + 1.5 x 74 = 127 <= 128.
    assert args["maxmemory"] == "74mb"
    assert args["appendonly"] == "no"
    assert args["save"] == ""
    assert args["maxmemory-policy"] == "allkeys-lru"
    secret = load(out, "secret.yaml")
    assert base64.b64decode(secret["data"]["redis.conf"]).decode() == f'requirepass "{PASSWORD}"\n'


def test_switching_persistence_leaves_one_workload_and_a_second_run_changes_nothing(tmp_path):
    out = tmp_path / "redis"
    render(out, persistence=False, policy="allkeys-lru")
    render(out, persistence=True, policy="noeviction", limit="256Mi")
    files = {p.name for p in out.iterdir()}
    assert files == {"statefulset.yaml", "service.yaml", "networkpolicy.yaml", "secret.yaml"}
    statefulset = load(out, "statefulset.yaml")
    args = settings(statefulset["spec"]["template"]["spec"]["containers"][0])
    # The fork's copy-on-write: (256 - 16) x 2/5 = 96 MiB.
    assert args["maxmemory"] == "96mb"
    assert args["appendonly"] == "yes"
    again = render(out, persistence=True, policy="noeviction", limit="256Mi")
    assert changed(again) == 0, again.stdout[-3000:]
