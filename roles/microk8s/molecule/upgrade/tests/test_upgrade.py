"""Verify the offline install, the refresh window of an old snapd, a worker joining, and the
deliberate upgrade one node at a time from 1.34 to 1.36 across the ingress addon's switch from
NGINX to Traefik (core-addons addons.yaml check_status, addons/ingress/{enable,disable})."""

import json
import os

import pytest
import testinfra

PRIMARY = "onebox-microk8s-upgrade"
WORKER = "onebox-microk8s-upgrade-worker"
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


def calls(host) -> list[list[str]]:
    return [json.loads(line) for line in host.file(LOG).content_string.splitlines()]


def lengths(host) -> list[int]:
    text = host.file("/var/log/onebox-standin/converge-lengths").content_string
    return [int(n) for n in text.split()]


def test_offline_install_acked_then_installed_the_file(primary):
    first = calls(primary)[: lengths(primary)[0]]
    snap_changes = [c for c in first if c[:2] in (["snap", "ack"], ["snap", "install"])]
    assert snap_changes == [
        ["snap", "ack", "/var/lib/onebox/microk8s-offline/microk8s_8287.assert"],
        ["snap", "install", "/var/lib/onebox/microk8s-offline/microk8s_8287.snap", "--classic"],
    ]
    assert primary.file("/var/lib/onebox/microk8s-offline/microk8s_8287.snap").mode == 0o600


def test_old_snapd_gets_a_refresh_window_instead_of_a_hold(primary, worker):
    for host in (primary, worker):
        first = calls(host)[: lengths(host)[0]]
        assert ["snap", "set", "system", "refresh.timer=sun5,03:00-05:00"] in first
        assert not [c for c in first if c[:2] == ["snap", "refresh"]]
        assert host.check_output("snap get system refresh.timer") == "sun5,03:00-05:00"


def test_worker_joined_as_a_worker(primary, worker):
    first = calls(worker)[: lengths(worker)[0]]
    joins = [c for c in first if c[:2] == ["microk8s", "join"]]
    assert len(joins) == 1
    assert joins[0][-1] == "--worker"
    assert worker.file("/var/snap/microk8s/current/var/lock/clustered.lock").exists
    names = primary.check_output("/snap/bin/microk8s kubectl get nodes -o name").split()
    assert sorted(names) == [f"node/{PRIMARY}", f"node/{WORKER}"]
    # A worker has no API server: no kubeconfig is written from it.
    assert not [c for c in first if c[:2] == ["microk8s", "config"]]


def upgrades(host) -> list[list[list[str]]]:
    """The calls of the move to 1.35 and of the move to 1.36: after the last converge's mark and
    the one side_effect writes between the two moves."""
    entries = calls(host)
    marks = lengths(host)
    return [entries[marks[-2] : marks[-1]], entries[marks[-1] :]]


@pytest.mark.parametrize("step", [0, 1])
def test_upgrade_one_node_at_a_time_drained_refreshed_ready_uncordoned(primary, worker, step):
    on_primary = upgrades(primary)[step]
    steps = [
        c[2:4]
        for c in on_primary
        if c[:3] in (["microk8s", "kubectl", "drain"], ["microk8s", "kubectl", "uncordon"])
    ]
    # The primary first, then the worker; each back in service before the next is drained.
    assert steps == [
        ["drain", PRIMARY],
        ["uncordon", PRIMARY],
        ["drain", WORKER],
        ["uncordon", WORKER],
    ]
    refresh = ["snap", "refresh", "microk8s", f"--channel=1.3{5 + step}/stable"]
    index = on_primary.index(refresh)
    assert on_primary[index + 1][:5] == ["microk8s", "status", "--format", "yaml", "--wait-ready"]
    assert on_primary.count(refresh) == 1
    assert upgrades(worker)[step].count(refresh) == 1


def test_both_nodes_run_1_36(primary, worker):
    for host in (primary, worker):
        row = host.check_output("snap list microk8s").splitlines()[1].split()
        assert row[1:4] == ["v1.36.4", "8556", "1.36/stable"]


def test_the_move_to_1_35_switched_the_ingress_addon_once(primary):
    to_135, to_136 = upgrades(primary)
    switch = [c for c in to_135 if c[:2] in (["microk8s", "disable"], ["microk8s", "enable"])]
    assert switch == [["microk8s", "disable", "ingress"], ["microk8s", "enable", "ingress"]]
    refresh = to_135.index(["snap", "refresh", "microk8s", "--channel=1.35/stable"])
    assert to_135.index(switch[0]) > refresh
    assert not [c for c in to_136 if c[:2] in (["microk8s", "disable"], ["microk8s", "enable"])]


def test_traefik_runs_and_nginx_is_gone(primary):
    kubectl = "/snap/bin/microk8s kubectl get"
    assert primary.run(f"{kubectl} crd ingressroutes.traefik.io -o name").rc == 0
    nginx = f"{kubectl} daemonset nginx-ingress-microk8s-controller -n ingress -o name"
    assert primary.run(nginx).rc == 1
    releases = json.loads(primary.check_output("/snap/bin/microk8s helm3 list -n ingress -o json"))
    # A refresh runs no addon: the chart stays the one 1.35's addon installed.
    assert [r["chart"] for r in releases] == ["traefik-37.4.0"]


def test_routes_rendered_again_for_traefik(primary):
    directory = "/etc/onebox/manifests/ingress"
    assert primary.file(f"{directory}/ingressroute.yaml").contains("kind: IngressRoute")
    assert not primary.file(f"{directory}/ingress.yaml").exists


def test_kubelet_flags_survive_the_refresh(primary, worker):
    for host in (primary, worker):
        lines = host.file("/var/snap/microk8s/current/args/kubelet").content_string.splitlines()
        assert lines.count("--system-reserved=memory=256Mi") == 1
        assert lines.count("--kube-reserved=memory=640Mi") == 1
        assert host.file("/var/snap/microk8s/current").linked_to.endswith("8556")
