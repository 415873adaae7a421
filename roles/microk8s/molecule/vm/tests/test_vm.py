"""Verify the microk8s role on a real VM: the real snap, a running MicroK8s, a Ready node."""

import re

ARGS = "/var/snap/microk8s/current/args/kubelet"


def test_microk8s_runs_from_the_pinned_channel_and_is_held(host):
    row = host.check_output("snap list microk8s").splitlines()[1].split()
    assert row[3] == "1.36/stable"
    assert "held" in row[5]


def test_microk8s_status_and_node_ready(host):
    with host.sudo():
        status = host.check_output(
            "/snap/bin/microk8s status --format yaml --wait-ready --timeout 120"
        )
        assert "running: True" in status
        assert re.search(r"- name: dns\n(\s+\w+: .*\n)*?\s+status: enabled", status)
        ready = host.check_output(
            "/snap/bin/microk8s kubectl get nodes "
            "-o jsonpath='{.items[0].status.conditions[?(@.type==\"Ready\")].status}'"
        )
        assert ready == "True"


def test_kubelet_flags_once_each_and_in_effect(host):
    with host.sudo():
        lines = host.file(ARGS).content_string.splitlines()
        for flag in ("--system-reserved", "--kube-reserved", "--eviction-hard", "--config"):
            assert len([line for line in lines if re.match(rf"^{flag}(=|\s)", line)]) == 1
        # Allocatable = capacity - system-reserved - kube-reserved - hard eviction (defaults:
        # 256Mi + 640Mi + 100Mi), so the flags are in effect, not only written.
        path = "{.items[0].status.%s.memory}"
        get = "/snap/bin/microk8s kubectl get nodes -o jsonpath='%s'"
        allocatable = host.check_output(get % (path % "allocatable"))
        capacity = host.check_output(get % (path % "capacity"))
        assert (
            int(capacity.rstrip("Ki")) - int(allocatable.rstrip("Ki")) == (256 + 640 + 100) * 1024
        )


def test_admin_kubectl_works(host):
    assert host.file(f"/home/{host.user().name}/.kube/config").mode == 0o600
    assert (
        host.run("kubectl --kubeconfig ~/.kube/config get nodes").rc == 0
        or host.run("/snap/bin/kubectl get nodes").rc == 0
    )
