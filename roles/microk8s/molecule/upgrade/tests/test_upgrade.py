"""Verify the offline install, the refresh window of an old snapd and the deliberate upgrade."""

import json

LOG = "/var/log/onebox-standin/calls.log"


def calls(host) -> list[list[str]]:
    return [json.loads(line) for line in host.file(LOG).content_string.splitlines()]


def lengths(host) -> list[int]:
    text = host.file("/var/log/onebox-standin/converge-lengths").content_string
    return [int(n) for n in text.split()]


def test_offline_install_acked_then_installed_the_file(host):
    first = calls(host)[: lengths(host)[0]]
    snap_changes = [c for c in first if c[:2] in (["snap", "ack"], ["snap", "install"])]
    assert snap_changes == [
        ["snap", "ack", "/var/lib/onebox/microk8s-offline/microk8s_8412.assert"],
        ["snap", "install", "/var/lib/onebox/microk8s-offline/microk8s_8412.snap", "--classic"],
    ]
    assert host.file("/var/lib/onebox/microk8s-offline/microk8s_8412.snap").mode == 0o600


def test_old_snapd_gets_a_refresh_window_instead_of_a_hold(host):
    first = calls(host)[: lengths(host)[0]]
    assert ["snap", "set", "system", "refresh.timer=sun5,03:00-05:00"] in first
    assert not [c for c in first if c[:2] == ["snap", "refresh"]]
    assert host.check_output("snap get system refresh.timer") == "sun5,03:00-05:00"


def test_upgrade_refreshed_to_the_next_channel_then_waited(host):
    after_idempotence = calls(host)[lengths(host)[1] :]
    refresh = ["snap", "refresh", "microk8s", "--channel=1.36/stable"]
    assert after_idempotence.count(refresh) == 1
    index = after_idempotence.index(refresh)
    assert after_idempotence[index + 1][:5] == [
        "microk8s",
        "status",
        "--format",
        "yaml",
        "--wait-ready",
    ]
    # A single node is not drained: its pods would have nowhere to go.
    assert not [c for c in after_idempotence if c[:3] == ["microk8s", "kubectl", "drain"]]
    row = host.check_output("snap list microk8s").splitlines()[1].split()
    assert row[1:4] == ["v1.36.4", "8556", "1.36/stable"]


def test_kubelet_flags_survive_the_refresh(host):
    lines = host.file("/var/snap/microk8s/current/args/kubelet").content_string.splitlines()
    assert lines.count("--system-reserved=memory=256Mi") == 1
    assert lines.count("--kube-reserved=memory=640Mi") == 1
    assert host.file("/var/snap/microk8s/current").linked_to.endswith("8556")
