"""Bad input to the redis role fails in its preflight, before any change, with a message naming
the variable to fix. The role gets its inputs as in a real run: from the shared facts
(onebox_redis, the memory plan) through playbooks/group_vars/all/wiring.yml
(tests/playbooks/group_vars is a link to it)."""

from __future__ import annotations

import pytest
from conftest import REPO, run_playbook

GOOD = {"vault_redis_password": "a-good-redis-password-0123"}


def preflight(**overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={**GOOD, "preflight_role": "redis", **overrides},
    )


def onebox_redis(**changes) -> dict:
    shared = {
        "service": "redis",
        "port": 6379,
        "image": "redis:7.4.6-bookworm",
        "persistence": True,
        "maxmemory_policy": "noeviction",
        "client_label": "onebox.io/redis-client",
    }
    return {"onebox_redis": {**shared, **changes}}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        # A cache: no persistence, least recently used keys go first.
        onebox_redis(persistence=False, maxmemory_policy="allkeys-lru"),
        # The floor itself.
        {"redis_memory_limit": "64Mi"},
        # openssl rand -base64 32, as vault.yml.example says.
        {"vault_redis_password": "q8Jm3w+Zt/2nQ0vX1y9R7kLc4aB6dE5fG8hJ0kL2mN4="},
    ],
)
def test_preflight_accepts_good_input(overrides):
    result = preflight(**overrides)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        # No password, or one redis.conf cannot hold between double quotes, or a short one.
        ({"vault_redis_password": ""}, "vault_redis_password"),
        ({"vault_redis_password": 'with"a-quote-inside-it'}, "vault_redis_password"),
        ({"vault_redis_password": "with a space inside it"}, "vault_redis_password"),
        ({"vault_redis_password": "back\\slash-inside-it-0"}, "vault_redis_password"),
        ({"vault_redis_password": "short-1"}, "vault_redis_password"),
        # An image that is not pinned.
        (onebox_redis(image="redis:latest"), "onebox_redis.image"),
        (onebox_redis(image="redis"), "onebox_redis.image"),
        # A policy Redis does not know, and persistence that is not a boolean.
        (onebox_redis(maxmemory_policy="lru"), "redis_maxmemory_policy"),
        (onebox_redis(persistence="sometimes"), "redis_persistence"),
        # A memory limit too small for the server, the data and the fork, or not a quantity.
        ({"redis_memory_limit": "48Mi"}, "onebox_memory.workloads.redis"),
        ({"redis_memory_limit": "128MB"}, "redis_memory_limit"),
        # Names Kubernetes would refuse.
        (onebox_redis(service="Redis_Queue"), "onebox_redis.service"),
        (onebox_redis(client_label="redis client"), "redis_client_label"),
        ({"redis_storage_size": "1GB"}, "redis_storage_size"),
    ],
)
def test_preflight_rejects_bad_input(overrides, named):
    result = preflight(**overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert named in output, output[-3000:]
