"""Verify removal: the worker left and was removed from the cluster, then the last node was
reset and purged (microk8s scripts/wrappers/{leave,remove_node,reset}.py)."""

import json
import os

import pytest
import testinfra

PRIMARY = "onebox-microk8s-absent-primary"
WORKER = "onebox-microk8s-absent-worker"
LOG = "/var/log/onebox-standin/calls.log"


def get(name: str):
    return testinfra.get_host(
        f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"]
    )


@pytest.fixture(scope="module")
def primary():
    return get(PRIMARY)


@pytest.fixture(scope="module")
def worker():
    return get(WORKER)


def runs(host) -> list[list[list[str]]]:
    entries = [json.loads(line) for line in host.file(LOG).content_string.splitlines()]
    start = int(host.file("/var/log/onebox-standin/prepare-length").content_string)
    first, second = (
        int(n)
        for n in host.file("/var/log/onebox-standin/converge-lengths").content_string.split()[:2]
    )
    return [entries[start:first], entries[first:second]]


def test_worker_was_drained_left_and_was_removed(primary, worker):
    first_primary, _ = runs(primary)
    first_worker, _ = runs(worker)
    primary_changes = [c[:3] for c in first_primary if c[:2] != ["snap", "list"]]
    drain = ["microk8s", "kubectl", "drain"]
    assert drain in primary_changes
    assert ["microk8s", "remove-node", WORKER] in primary_changes
    assert primary_changes.index(drain) < primary_changes.index(["microk8s", "remove-node", WORKER])
    assert ["microk8s", "leave"] in [c[:2] for c in first_worker]
    assert ["snap", "remove", "microk8s", "--purge"] in first_worker
    assert ["microk8s", "reset"] not in [c[:2] for c in first_worker]


def test_last_node_was_reset_after_the_worker_was_gone_then_purged(primary):
    first, _ = runs(primary)
    calls = [c[:3] for c in first]
    assert calls.index(["microk8s", "remove-node", WORKER]) < calls.index(["microk8s", "reset"])
    assert calls.index(["microk8s", "reset"]) < calls.index(["snap", "remove", "microk8s"])


@pytest.mark.parametrize("name", [PRIMARY, WORKER])
def test_nothing_of_microk8s_is_left(name):
    host = get(name)
    assert host.run("snap list microk8s").rc == 1
    assert not host.file("/var/snap/microk8s").exists
    assert not host.file("/snap/bin/microk8s").exists
    assert not host.file("/home/opsadmin/.kube/config").exists


@pytest.mark.parametrize("name", [PRIMARY, WORKER])
def test_second_converge_changed_nothing(name):
    _, second = runs(get(name))
    assert second, "the second converge ran"
    assert [c[:2] for c in second] == [["snap", "list"]] * len(second)
