"""Bad input to the microk8s role fails in its preflight, before any change, naming the variable."""

from pathlib import Path

import pytest
from conftest import REPO, run_playbook


def preflight(**overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={"preflight_role": "microk8s", **overrides},
    )


def test_microk8s_preflight_accepts_the_defaults():
    result = preflight()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"microk8s_addons": {"dns": True, "nginx-ingress": True}}, "nginx-ingress"),
        ({"microk8s_addons": {"dns": "yes please"}}, "microk8s_addons"),
        ({"microk8s_addons": {"ha-cluster": False}}, "microk8s_ha_cluster"),
        ({"microk8s_channel": "latest/stable"}, "microk8s_channel"),
        ({"microk8s_channel": "1.36"}, "microk8s_channel"),
        ({"microk8s_channel": "1.36/nightly"}, "microk8s_channel"),
        ({"microk8s_offline_snap": "/tmp/microk8s_1.snap"}, "microk8s_offline_assert"),
        ({"microk8s_offline_assert": "/tmp/microk8s_1.assert"}, "microk8s_offline_snap"),
        (
            {"microk8s_kubelet_system_reserved_memory": "64Gi"},
            "microk8s_kubelet_system_reserved_memory",
        ),
        (
            {"microk8s_kubelet_kube_reserved_memory": "640MB"},
            "microk8s_kubelet_kube_reserved_memory",
        ),
        (
            {"microk8s_kubelet_eviction_soft_memory": "50Mi"},
            "microk8s_kubelet_eviction_soft_memory",
        ),
        (
            {"microk8s_kubelet_eviction_hard_disk": {"nodefs.available": "1Gi"}},
            "microk8s_kubelet_eviction_hard_disk",
        ),
        (
            {"microk8s_kubelet_eviction_soft_grace_period": "soon"},
            "microk8s_kubelet_eviction_soft_grace_period",
        ),
        ({"microk8s_ingress_upload_max_mib": 0}, "microk8s_ingress_upload_max_mib"),
        ({"microk8s_ingress_upload_min_mbit": "fast"}, "microk8s_ingress_upload_min_mbit"),
        # core-addons commit 1824e87 removed the dashboard addon (1.36).
        ({"microk8s_addons": {"dashboard": True}}, "dashboard"),
        ({"microk8s_admin_user": "root"}, "microk8s_admin_user"),
        ({"microk8s_kubelet_swap_behavior": "UnlimitedSwap"}, "microk8s_kubelet_swap_behavior"),
    ],
)
def test_microk8s_preflight_rejects_bad_input(overrides, named):
    result = preflight(**overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert named in output


def test_reservations_larger_than_ram_name_the_memory_variables():
    result = preflight(microk8s_kubelet_kube_reserved_memory="1Ti")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "nothing would be left for pods" in output
    assert "microk8s_kubelet_kube_reserved_memory" in output


def test_offline_pair_must_exist(tmp_path: Path):
    snap = tmp_path / "microk8s_8556.snap"
    snap.write_text("x")
    missing = preflight(
        microk8s_offline_snap=str(snap), microk8s_offline_assert=str(snap.with_suffix(".assert"))
    )
    assert missing.returncode != 0
    assert "microk8s_offline_assert" in missing.stdout + missing.stderr
    snap.with_suffix(".assert").write_text("x")
    present = preflight(
        microk8s_offline_snap=str(snap),
        microk8s_offline_assert=str(snap.with_suffix(".assert")),
        microk8s_offline_host_has_network=True,
    )
    assert present.returncode == 0, present.stdout + present.stderr


def test_offline_install_refuses_the_addons_that_download(tmp_path: Path):
    # core-addons: ingress/cert-manager fetch charts, dns/hostpath-storage pull images.
    snap = tmp_path / "microk8s_8556.snap"
    snap.write_text("x")
    snap.with_suffix(".assert").write_text("x")
    pair = {
        "microk8s_offline_snap": str(snap),
        "microk8s_offline_assert": str(snap.with_suffix(".assert")),
    }
    refused = preflight(**pair)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "dns, hostpath-storage, ingress, cert-manager" in output
    assert "microk8s_offline_host_has_network" in output
    bare = preflight(**pair, microk8s_addons={"dns": False, "ingress": False, "rbac": True})
    assert bare.returncode == 0, bare.stdout + bare.stderr


def test_dashboard_is_still_known_on_1_35():
    result = preflight(microk8s_channel="1.35/stable", microk8s_addons={"dashboard": True})
    assert result.returncode == 0, result.stdout + result.stderr


def test_memory_defaults_are_microk8s_own():
    # microk8s-resources/default-args/kubelet: no reservation, no soft eviction.
    defaults = (REPO / "roles/microk8s/defaults/main.yml").read_text()
    for name in (
        "microk8s_kubelet_system_reserved_memory",
        "microk8s_kubelet_kube_reserved_memory",
        "microk8s_kubelet_eviction_soft_memory",
    ):
        assert f'{name}: ""' in defaults
    assert "microk8s_kubelet_eviction_hard_memory: 100Mi" in defaults


def test_limited_swap_needs_cgroup_v2():
    result = preflight(microk8s_kubelet_swap_behavior="LimitedSwap")
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        assert result.returncode == 0, result.stdout + result.stderr
    else:
        assert result.returncode != 0
        assert "cgroup v2" in result.stdout + result.stderr


def test_joining_needs_the_ha_datastore():
    inventory = (
        "[onebox]\nlocalhost ansible_connection=local\nnode2 ansible_connection=local\n"
        "[onebox_join]\nnode2\n"
    )
    path = REPO / ".cache" / "test_microk8s_join_inventory.ini"
    path.parent.mkdir(exist_ok=True)
    path.write_text(inventory)
    result = run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        str(path),
        "--limit",
        "localhost",
        extra_vars={"preflight_role": "microk8s"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "microk8s_ha_cluster" in output
