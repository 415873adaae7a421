"""Verify the microk8s role on a stand-in host: the real effects it owns and the commands it ran.

The args file, kubelet config, group, kubeconfig and ufw rules are real files and real kernel
rules; `snap` and `microk8s` are stand-ins that log every call (see molecule/default/README.md).
"""

import json
import re

import pytest

ARGS = "/var/snap/microk8s/current/args/kubelet"
KUBELET_CONFIG = "/var/snap/microk8s/current/args/onebox-kubelet-config.yaml"
LOG = "/var/log/onebox-standin/calls.log"
LENGTHS = "/var/log/onebox-standin/converge-lengths"
ADMIN = "opsadmin"

# What the converge asked for (converge.yml) and the stock lines the snap ships.
EXPECTED_FLAGS = {
    "--system-reserved": "memory=300Mi",
    "--kube-reserved": "memory=600Mi",
    "--eviction-hard": '"memory.available<150Mi,nodefs.available<1Gi,nodefs.inodesFree<5%,'
    'imagefs.available<1Gi,imagefs.inodesFree<5%"',
    "--eviction-soft": '"memory.available<250Mi"',
    "--eviction-soft-grace-period": '"memory.available=1m30s"',
    "--eviction-max-pod-grace-period": "60",
    "--fail-swap-on": "false",
    "--config": KUBELET_CONFIG,
}
STOCK_LINES = [
    "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config",
    "--cert-dir=${SNAP_DATA}/certs",
    "--client-ca-file=${SNAP_DATA}/certs/ca.crt",
    "--anonymous-auth=false",
    "--root-dir=${SNAP_COMMON}/var/lib/kubelet",
    "--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock",
    "--authentication-token-webhook=true",
    "--read-only-port=0",
    # Added by the dns addon when the role enabled it: the snap's own edits stay.
    "--cluster-dns=10.152.183.10",
]
TRAEFIK_UPGRADE = [
    "microk8s",
    "helm3",
    "upgrade",
    "traefik",
    "traefik/traefik",
    "-n",
    "ingress",
    "--version",
    "39.0.8",
    "--reuse-values",
    "--set=ingressRoute.dashboard.enabled=false",
    "--set=ports.web.transport.respondingTimeouts.readTimeout=420s",
    "--set=ports.websecure.transport.respondingTimeouts.readTimeout=420s",
]
# Calls that change something; everything else the role runs is a read.
MUTATING = [
    ("snap", "install"),
    ("snap", "remove"),
    ("snap", "refresh"),
    ("snap", "ack"),
    ("snap", "set"),
    ("snap", "alias"),
    ("snap", "restart"),
    ("microk8s", "enable"),
    ("microk8s", "disable"),
    ("microk8s", "join"),
    ("microk8s", "add-node"),
    ("microk8s", "reset"),
    ("microk8s", "helm3"),
]


def calls(host) -> list[list[str]]:
    return [json.loads(line) for line in host.file(LOG).content_string.splitlines()]


def mutating(entries: list[list[str]]) -> list[list[str]]:
    return [
        call
        for call in entries
        if tuple(call[:2]) in MUTATING and call[2:3] not in (["list"], ["get"])
    ]


def converge_lengths(host) -> list[int]:
    return [int(n) for n in host.file(LENGTHS).content_string.split()]


def test_args_file_has_each_flag_once_with_its_value(host):
    lines = host.file(ARGS).content_string.splitlines()
    for flag, value in EXPECTED_FLAGS.items():
        matching = [line for line in lines if re.match(rf"^\s*{re.escape(flag)}(=|\s|$)", line)]
        assert matching == [f"{flag}={value}"], (flag, matching)


def test_stock_flags_and_the_snaps_edits_are_untouched(host):
    lines = host.file(ARGS).content_string.splitlines()
    for line in STOCK_LINES:
        assert lines.count(line) == 1, line
    # The role replaced the stock --eviction-hard in place (it is still the 7th line).
    assert lines[6].startswith("--eviction-hard=")


def test_kubelet_config_file(host):
    config = host.file(KUBELET_CONFIG)
    assert config.mode == 0o644
    text = config.content_string
    assert "kind: KubeletConfiguration" in text
    assert "apiVersion: kubelet.config.k8s.io/v1beta1" in text
    assert "failSwapOn: false" in text
    assert re.search(r"memorySwap:\n(\s+#.*\n)*\s+swapBehavior: NoSwap", text)


def test_admin_in_microk8s_group_with_private_kubeconfig(host):
    assert "microk8s" in host.user(ADMIN).groups
    kubeconfig = host.file(f"/home/{ADMIN}/.kube/config")
    assert kubeconfig.mode == 0o600
    assert kubeconfig.user == ADMIN
    assert kubeconfig.group == ADMIN
    assert host.file(f"/home/{ADMIN}/.kube").mode == 0o700
    # The content is what `microk8s config` prints, nothing else.
    assert kubeconfig.content_string == host.check_output("/snap/bin/microk8s config") + "\n"
    assert "server: https://" in kubeconfig.content_string


def test_kubectl_is_a_command(host):
    link = host.file("/snap/bin/kubectl")
    assert link.is_symlink
    out = host.run("/snap/bin/kubectl get nodes -o name")
    assert out.rc == 0
    assert out.stdout.strip() == "node/onebox-microk8s-default"


def test_firewall_rules(host):
    status = host.check_output("ufw status verbose")
    assert "Status: active" in status
    assert "deny (incoming)" in status
    assert "allow (routed)" in status
    for interface in ("cni0", "vxlan.calico", "cali+"):
        assert re.search(rf"Anywhere on {re.escape(interface)}\s+ALLOW IN\s+Anywhere", status)
        assert re.search(rf"Anywhere\s+ALLOW OUT\s+Anywhere on {re.escape(interface)}", status)
    # The API port is the base role's rule, not this role's; no cluster ports on a single node.
    for port in ("16443", "25000", "19001", "10250", "4789"):
        assert port not in status
    # The rules are in the kernel, not only in ufw's files.
    kernel = host.check_output("iptables -S ufw-user-input")
    assert "-i cni0 -j ACCEPT" in kernel
    assert host.check_output("iptables -S FORWARD").startswith("-P FORWARD ACCEPT") or (
        "ufw-user-forward" in host.check_output("iptables -S FORWARD")
    )


def test_first_converge_ran_the_expected_changes_in_order(host):
    first = calls(host)[: converge_lengths(host)[0]]
    changes = mutating(first)
    assert changes == [
        ["snap", "install", "microk8s", "--classic", "--channel=1.36/stable"],
        ["snap", "refresh", "--hold=forever", "microk8s"],
        ["microk8s", "disable", "ha-cluster", "--force"],
        ["snap", "restart", "microk8s.daemon-kubelite"],
        ["microk8s", "enable", "dns"],
        ["microk8s", "enable", "hostpath-storage"],
        ["microk8s", "enable", "ingress"],
        ["microk8s", "enable", "cert-manager"],
        TRAEFIK_UPGRADE,
        ["snap", "alias", "microk8s.kubectl", "kubectl"],
    ]
    # Each change waited for readiness afterwards, with a bounded timeout.
    restart = first.index(["snap", "restart", "microk8s.daemon-kubelite"])
    assert ["microk8s", "status", "--format", "yaml", "--wait-ready", "--timeout", "300"] in (
        first[restart + 1 : restart + 2]
    )


def test_traefik_dashboard_off_and_upload_timeouts_on_the_installed_chart(host):
    # core-addons addons/ingress/values.yaml turns the dashboard on (entry point web, port 80);
    # 50 MiB at 1 Mbit/s needs 420 s, Traefik v3's readTimeout is 60 s.
    values = json.loads(
        host.check_output("/snap/bin/microk8s helm3 get values traefik -n ingress -o json")
    )
    assert values["ingressRoute"]["dashboard"]["enabled"] is False
    for entry_point in ("web", "websecure"):
        timeouts = values["ports"][entry_point]["transport"]["respondingTimeouts"]
        assert timeouts["readTimeout"] == "420s"
    releases = json.loads(host.check_output("/snap/bin/microk8s helm3 list -n ingress -o json"))
    # The chart MicroK8s 1.36's addon installs (addons/ingress/enable CHART_VERSION), kept.
    assert [r["chart"] for r in releases] == ["traefik-39.0.8"]


def test_second_converge_changed_nothing(host):
    lengths = converge_lengths(host)
    assert len(lengths) >= 2, "verify runs after converge and idempotence"
    second = calls(host)[lengths[0] : lengths[1]]
    assert second, "the second converge read the state"
    assert mutating(second) == []


@pytest.mark.parametrize("addon", ["dns", "hostpath-storage", "ingress", "cert-manager"])
def test_addons_enabled(host, addon):
    status = host.check_output("/snap/bin/microk8s status --format yaml")
    assert re.search(rf"- name: {addon}\n(\s+\w+: .*\n)*?\s+status: enabled", status)


def test_refreshes_held_and_ha_off(host):
    assert "held" in host.check_output("snap list microk8s")
    status = host.check_output("/snap/bin/microk8s status --format yaml")
    assert "high-availability:\n  enabled: False" in status
