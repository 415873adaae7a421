"""Bad input to the redis role fails in its preflight, before any change, with a message naming
the variable to fix. The role gets its inputs as in a real run: from the shared facts
(onebox_redis, the memory plan) through playbooks/group_vars/all/wiring.yml
(tests/playbooks/group_vars is a link to it)."""

from __future__ import annotations

import re

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


# --- the memory budget counts Redis (and the workers) only for an app that uses them ----------

GUESTBOOK = REPO / "examples/guestbook/profile.yml"


def budget(ram_mib: int, *profile: str):
    result = run_playbook(
        REPO / "tests/playbooks/memory_budget.yml",
        "-i",
        "localhost,",
        *profile,
        extra_vars={"memory_budget_ram_mib": ram_mib},
    )
    return result.returncode, result.stdout + result.stderr


def planned_mib(output: str) -> int:
    return int(re.search(r"total planned\s+(\d+)", output).group(1))


def test_the_budget_table_shows_redis_and_the_worker_for_an_app_that_uses_them():
    returncode, guestbook = budget(8192, "-e", f"@{GUESTBOOK}")
    assert returncode == 0, guestbook[-3000:]
    assert re.search(r"redis \(limit\)\s+128\s+onebox_memory\.workloads\.redis\b", guestbook)
    assert re.search(r"app worker \(limit\)\s+128\s+onebox_app\.processes\.worker\.", guestbook)
    returncode, reader = budget(8192)
    assert returncode == 0, reader[-3000:]
    assert "onebox_memory.workloads.redis" not in reader
    assert "worker" not in reader
    # The reader's plan does not pay for a Redis it does not run.
    assert planned_mib(guestbook) - planned_mib(reader) == 128 + 128 + 192 - 384


def test_the_budget_refuses_a_host_where_redis_and_the_worker_do_not_fit():
    _, fitting = budget(8192, "-e", f"@{GUESTBOOK}")
    total = planned_mib(fitting)
    returncode, output = budget(total, "-e", f"@{GUESTBOOK}")
    assert returncode == 0, output[-3000:]
    returncode, output = budget(total - 1, "-e", f"@{GUESTBOOK}")
    assert returncode != 0, output[-3000:]
    assert "onebox_memory.workloads.redis" in output
    assert "onebox_app.processes.worker.memory" in output


# --- playbooks/preflight.yml checks Redis' inputs only for an app that uses Redis -------------

SANDBOX_SETTINGS = [
    arg
    for path in sorted((REPO / "inventories/sandbox/group_vars").glob("*/*.yml"))
    if path.name != "secrets.yml"
    for arg in ("-e", f"@{path}")
]
SECRETS = {
    # A whole key: the preflight reads each with ssh-keygen.
    "base_admin_ssh_public_keys": [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/MbTmB2jY45zmcuyXHLCvh2rvUw39ufB8KtppSEeYV me@laptop"
    ],
    "vault_django_secret_key": "k",
    "vault_postgres_password": "p",
    "vault_ingress_basic_auth_password": "b",
    **GOOD,
}


def site_preflight(*profile: str, **overrides):
    return run_playbook(
        REPO / "playbooks/preflight.yml",
        "-i",
        str(REPO / "tests/inventory/local.yml"),
        *SANDBOX_SETTINGS,
        *profile,
        extra_vars={**SECRETS, **overrides},
    )


def test_the_preflight_playbook_checks_redis_for_an_app_that_uses_it():
    result = site_preflight("-e", f"@{GUESTBOOK}", **onebox_redis(image="redis:latest"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "onebox_redis.image" in output, output[-3000:]
    # The reader has no Redis: its inputs are not checked, and its secret is not required.
    result = site_preflight(**onebox_redis(image="redis:latest"), vault_redis_password="")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
