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
        ({"microk8s_open_api_port_to": ["anywhere"]}, "microk8s_open_api_port_to"),
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
        microk8s_offline_snap=str(snap), microk8s_offline_assert=str(snap.with_suffix(".assert"))
    )
    assert present.returncode == 0, present.stdout + present.stderr


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
