"""Verify joining: the node joined the primary with a token the primary issued, once."""

import json
import os
import re

import pytest
import testinfra

PRIMARY = "onebox-microk8s-join-primary"
NODE = "onebox-microk8s-join-node"
LOG = "/var/log/onebox-standin/calls.log"
ARGS = "/var/snap/microk8s/current/args/kubelet"
CONFIG = "/var/snap/microk8s/current/args/onebox-kubelet-config.yaml"


def get(name: str):
    return testinfra.get_host(
        f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"]
    )


@pytest.fixture(scope="module")
def primary():
    return get(PRIMARY)


@pytest.fixture(scope="module")
def node():
    return get(NODE)


def address(host) -> str:
    return host.check_output("hostname -I").split()[0]


def runs(host) -> list[list[list[str]]]:
    """The calls of the first and the second converge."""
    entries = [json.loads(line) for line in host.file(LOG).content_string.splitlines()]
    start = int(host.file("/var/log/onebox-standin/prepare-length").content_string)
    first, second = (
        int(n)
        for n in host.file("/var/log/onebox-standin/converge-lengths").content_string.split()[:2]
    )
    return [entries[start:first], entries[first:second]]


def test_node_joined_with_the_token_the_primary_issued(primary, node):
    first_primary, _ = runs(primary)
    add_nodes = [call for call in first_primary if call[:2] == ["microk8s", "add-node"]]
    assert len(add_nodes) == 1
    token = add_nodes[0][add_nodes[0].index("--token") + 1]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert add_nodes[0][add_nodes[0].index("--token-ttl") + 1] == "600"
    first_node, _ = runs(node)
    joins = [call for call in first_node if call[:2] == ["microk8s", "join"]]
    assert len(joins) == 1
    target = joins[0][2]
    assert re.fullmatch(rf"{re.escape(address(primary))}:25000/{token}/[0-9a-f]{{12}}", target)
    assert "--worker" not in joins[0]


def test_primary_counts_the_node(primary, node):
    # The stand-in cluster agent took the join over the network, through ufw.
    agent = [
        json.loads(line)
        for line in primary.file(LOG).content_string.splitlines()
        if line.startswith('["cluster-agent"')
    ]
    assert agent == [["cluster-agent", "join", NODE, address(node)]]
    names = primary.check_output("/snap/bin/microk8s kubectl get nodes -o name").split()
    assert sorted(names) == [f"node/{NODE}", f"node/{PRIMARY}"]
    status = node.check_output("/snap/bin/microk8s status --format yaml")
    assert f"address: {address(primary)}:19001" in status


def test_second_converge_did_not_join_again(primary, node):
    for host in (primary, node):
        _, second = runs(host)
        assert second, "the second converge ran"
        assert not [c for c in second if c[:2] in (["microk8s", "join"], ["microk8s", "add-node"])]
        assert not [c for c in second if c[:2] in (["microk8s", "enable"], ["microk8s", "disable"])]
        assert not [c for c in second if c[:2] in (["snap", "install"], ["snap", "restart"])]


def test_existing_primary_kept_ha_and_lost_metrics_server(primary):
    # The role's run in prepare (primary alone) enabled dns and disabled metrics-server;
    # the converge with the node changed no addon there.
    entries = [json.loads(line) for line in primary.file(LOG).content_string.splitlines()]
    changes = [c for c in entries if c[:2] in (["microk8s", "enable"], ["microk8s", "disable"])]
    assert changes == [
        ["microk8s", "enable", "metrics-server"],
        ["microk8s", "enable", "dns"],
        ["microk8s", "disable", "metrics-server"],
    ]
    assert [c for c in entries if c[:2] == ["snap", "install"]] == [
        ["snap", "install", "microk8s", "--classic", "--channel=1.36/stable"]
    ]


def test_node_added_later_runs_with_the_roles_kubelet_flags(primary, node):
    # microk8s join.py store_base_kubelet_args: the node got the primary's args/kubelet, whose
    # --config file the role wrote on the node before the join; kubelite runs on the node.
    args = node.file(ARGS).content_string
    assert f"--config={CONFIG}" in args.splitlines()
    assert node.file(CONFIG).is_file
    assert sum(line.startswith("--eviction-hard") for line in args.splitlines()) == 1
    query = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
    ready = primary.check_output(f"/snap/bin/microk8s kubectl get node {NODE} -o '{query}'")
    assert ready == "True"
    assert "running: True" in node.check_output("/snap/bin/microk8s status --format yaml")


@pytest.mark.parametrize(("me", "peer"), [(PRIMARY, NODE), (NODE, PRIMARY)])
def test_cluster_ports_open_to_the_other_node_only(me, peer):
    host, other = get(me), get(peer)
    status = host.check_output("ufw status")
    for port in ("16443/tcp", "25000/tcp", "19001/tcp", "10250/tcp", "4789/udp"):
        assert re.search(rf"^{port}\s+ALLOW\s+{re.escape(address(other))}\s", status, re.M), port
        assert not re.search(rf"^{port}\s+ALLOW\s+Anywhere", status, re.M), port
