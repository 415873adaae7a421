"""The microk8s scenarios' stand-in behaves as MicroK8s' source says (each test names the file).

The stand-in runs here in a temporary root (ONEBOX_STANDIN_ROOT), each node with its own root,
address 127.0.0.1 and its own cluster-agent port; joins go over real HTTP to the agent.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

STANDIN = (
    Path(__file__).resolve().parents[1] / "roles/microk8s/molecule/resources/standin/standin.py"
)
CONFIG_ARG = "--config=${SNAP_DATA}/args/onebox-kubelet-config.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    def __init__(self, root: Path, name: str) -> None:
        self.root, self.name, self.port = root, name, free_port()
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        for prog in ("snap", "microk8s"):
            (self.bin / prog).symlink_to(STANDIN)
        self.env = {
            **os.environ,
            "ONEBOX_STANDIN_ROOT": str(root),
            "ONEBOX_STANDIN_IP": "127.0.0.1",
            "ONEBOX_STANDIN_NODE": name,
            "ONEBOX_STANDIN_AGENT_PORT": str(self.port),
            "ONEBOX_STANDIN_FAST": "1",
        }
        self.agent: subprocess.Popen | None = None

    def run(self, prog: str, *args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(self.bin / prog), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True)

    def install(self, channel: str = "1.36/stable") -> None:
        assert (
            self.run("snap", "install", "microk8s", "--classic", f"--channel={channel}").returncode
            == 0
        )
        self.agent = subprocess.Popen([sys.executable, str(STANDIN), "agent"], env=self.env)
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("the stand-in agent did not start")

    @property
    def args(self) -> Path:
        return self.root / "var/snap/microk8s/current/args"

    def join(self, primary: Node, *flags: str) -> subprocess.CompletedProcess:
        token = "0123456789abcdef0123456789abcdef"
        made = primary.run("microk8s", "add-node", "--token", token, "--format", "token-check")
        assert made.returncode == 0, made.stderr
        return self.run(
            "microk8s", "join", f"127.0.0.1:{primary.port}/{made.stdout.strip()}", *flags
        )

    def ready_on(self, primary: Node) -> str:
        query = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
        return primary.run(
            "microk8s", "kubectl", "get", "node", self.name, "-o", query
        ).stdout.strip()

    def status(self) -> subprocess.CompletedProcess:
        return self.run("microk8s", "status", "--format", "yaml", "--wait-ready", "--timeout", "5")

    def stop(self) -> None:
        if self.agent:
            self.agent.terminate()
            self.agent.wait()


@pytest.fixture
def nodes(tmp_path):
    made: list[Node] = []

    def make(name: str) -> Node:
        node = Node(tmp_path / name, name)
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop()


def primary_with_config_flag(make) -> Node:
    primary = make("primary")
    primary.install()
    (primary.args / "onebox-kubelet-config.yaml").write_text("kind: KubeletConfiguration\n")
    with (primary.args / "kubelet").open("a") as handle:
        handle.write(CONFIG_ARG + "\n")
    assert primary.run("snap", "restart", "microk8s.daemon-kubelite").returncode == 0
    return primary


def test_join_copies_the_primarys_kubelet_args(nodes):
    # microk8s scripts/wrappers/join.py store_base_kubelet_args; cluster-agent pkg/api/v2/join.go.
    primary = primary_with_config_flag(nodes)
    node = nodes("node")
    node.install()
    assert node.join(primary).returncode == 0
    assert (node.args / "kubelet").read_text() == (primary.args / "kubelet").read_text()


@pytest.mark.parametrize("worker", [False, True])
def test_a_joiner_without_the_primarys_config_file_never_gets_ready(nodes, worker):
    # 0000-Kubelite-integration.patch StartKubelet: klog.Fatalf ends kubelite.
    primary = primary_with_config_flag(nodes)
    node = nodes("node")
    node.install()
    assert node.join(primary, *(["--worker"] if worker else [])).returncode == 0
    assert node.ready_on(primary) == "Unknown"
    if not worker:
        status = node.status()
        assert status.returncode == 1
        assert "running: False" in status.stdout


def test_a_joiner_with_the_config_file_in_place_gets_ready(nodes):
    primary = primary_with_config_flag(nodes)
    node = nodes("node")
    node.install()
    (node.args / "onebox-kubelet-config.yaml").write_text("kind: KubeletConfiguration\n")
    assert node.join(primary, "--worker").returncode == 0
    assert node.ready_on(primary) == "True"


def test_reset_refuses_on_a_worker(nodes):
    # reset.py preflight_check -> common/utils.py is_cluster_locked: exit 1.
    primary, worker = nodes("primary"), nodes("worker")
    primary.install()
    worker.install()
    assert worker.join(primary, "--worker").returncode == 0
    reset = worker.run("microk8s", "reset")
    assert reset.returncode == 1
    assert "acting as a node in a cluster" in reset.stdout


def test_reset_does_nothing_on_a_multi_node_cluster_and_exits_0(nodes):
    # reset.py exit_if_multinode: sys.exit(0) with a message, before disabling anything.
    primary, worker = nodes("primary"), nodes("worker")
    primary.install()
    assert primary.run("microk8s", "enable", "dns").returncode == 0
    worker.install()
    assert worker.join(primary, "--worker").returncode == 0
    reset = primary.run("microk8s", "reset")
    assert reset.returncode == 0
    assert "Please remove all joined nodes" in reset.stdout
    assert "status: enabled" in primary.status().stdout.split("name: dns", 1)[1].split("- name")[0]


def test_reset_fails_when_the_api_server_is_down(nodes):
    # reset.py exit_if_multinode: "Failed to query the cluster nodes.", exit 1.
    node = nodes("node")
    node.install()
    with (node.args / "kubelet").open("a") as handle:
        handle.write(CONFIG_ARG + "\n")
    node.run("snap", "restart", "microk8s.daemon-kubelite")
    reset = node.run("microk8s", "reset")
    assert reset.returncode == 1
    assert "Failed to query the cluster nodes." in reset.stdout


def test_worker_refusals_exit_0_with_a_message(nodes):
    # microk8s-status.wrapper / microk8s-kubectl.wrapper: echo, exit 0.
    primary, worker = nodes("primary"), nodes("worker")
    primary.install()
    worker.install()
    assert worker.join(primary, "--worker").returncode == 0
    for args in (("status",), ("kubectl", "get", "nodes")):
        answer = worker.run("microk8s", *args)
        assert answer.returncode == 0
        assert "acting as a node in a cluster" in answer.stdout


def test_offline_enable_of_ingress_fails_on_1_35_and_later(nodes):
    # core-addons addons/ingress/enable (1.35+): helm repo add from the network under set -e.
    node = nodes("node")
    node.install()
    (node.root / "etc/onebox-standin").mkdir(parents=True)
    (node.root / "etc/onebox-standin/offline").touch()
    enabled = node.run("microk8s", "enable", "ingress")
    assert enabled.returncode == 1
    assert "traefik.github.io" in enabled.stderr
    assert node.run("microk8s", "enable", "cert-manager").returncode == 1


def test_a_refresh_to_1_35_keeps_nginx_and_status_calls_it_ingress(nodes):
    # core-addons addons.yaml check_status (1.35: ingressclass public); a refresh runs no addon.
    node = nodes("node")
    node.install("1.34/stable")
    assert node.run("microk8s", "enable", "ingress").returncode == 0
    assert node.run("snap", "refresh", "microk8s", "--channel=1.35/stable").returncode == 0
    assert "name: ingress\n    repository: core" in node.status().stdout
    ingress = node.status().stdout.split("name: ingress", 1)[1].split("- name")[0]
    assert "status: enabled" in ingress
    crd = node.run("microk8s", "kubectl", "get", "crd", "ingressroutes.traefik.io", "-o", "name")
    assert crd.returncode == 1
    # 1.35 addons/ingress/disable removes the legacy NGINX resources; enable installs Traefik.
    assert node.run("microk8s", "disable", "ingress").returncode == 0
    nginx = ("get", "daemonset", "nginx-ingress-microk8s-controller", "-n", "ingress", "-o", "name")
    assert node.run("microk8s", "kubectl", *nginx).returncode == 1
    assert node.run("microk8s", "enable", "ingress").returncode == 0
    crd = node.run("microk8s", "kubectl", "get", "crd", "ingressroutes.traefik.io", "-o", "name")
    assert crd.returncode == 0
    releases = json.loads(
        node.run("microk8s", "helm3", "list", "-n", "ingress", "-o", "json").stdout
    )
    assert releases == [{"name": "traefik", "namespace": "ingress", "chart": "traefik-37.4.0"}]


def test_worker_leave_restores_the_stock_args_and_remove_node_needs_leave_on_control_planes(nodes):
    # leave.py reset_current_dqlite_worker_installation; remove_node.py remove_dqlite_node.
    primary, worker, control = nodes("primary"), nodes("worker"), nodes("control")
    for node in (primary, worker, control):
        node.install()
    assert worker.join(primary, "--worker").returncode == 0
    assert control.join(primary).returncode == 0
    assert primary.run("microk8s", "remove-node", "control").returncode == 1
    assert worker.run("microk8s", "leave").returncode == 0
    assert "--config" not in (worker.args / "kubelet").read_text()
    assert worker.ready_on(primary) == "Unknown"
    assert primary.run("microk8s", "remove-node", "worker").returncode == 0
    assert control.run("microk8s", "leave").returncode == 0
    assert primary.run("microk8s", "remove-node", "control").returncode == 0
    assert primary.run("microk8s", "leave").returncode == 1
    assert primary.run("microk8s", "reset").returncode == 0


def test_status_wait_ready_exits_1_when_it_gives_up(nodes):
    # status.py: `if not is_ready: sys.exit(1)`.
    node = nodes("node")
    node.install()
    (node.root / "var/snap/microk8s/current/args/kubelet").write_text(CONFIG_ARG + "\n")
    node.run("snap", "restart", "microk8s.daemon-kubelite")
    assert node.status().returncode == 1


def test_dashboard_is_no_core_addon_on_1_36(nodes):
    # core-addons commit 1824e87 removed the dashboard addon.
    node = nodes("node")
    node.install()
    assert node.run("microk8s", "enable", "dashboard").returncode == 1
