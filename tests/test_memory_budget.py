"""The memory budget: Kubernetes quantities, the sum against RAM, and the role's verdict."""

from __future__ import annotations

import importlib.util

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from conftest import REPO, run_playbook

_spec = importlib.util.spec_from_file_location(
    "memory_budget", REPO / "plugins/filter/memory_budget.py"
)
memory_budget_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(memory_budget_module)
k8s_quantity_bytes = memory_budget_module.k8s_quantity_bytes
k8s_quantity_mib = memory_budget_module.k8s_quantity_mib
memory_budget = memory_budget_module.memory_budget

ADDONS = {
    "dns": True,
    "hostpath-storage": True,
    "ingress": True,
    "cert-manager": True,
    "metrics-server": False,
}


def plan(**overrides) -> dict:
    base = {
        "system_reserved": "256Mi",
        "kube_reserved": "640Mi",
        "eviction_hard": "100Mi",
        "eviction_soft": "200Mi",
        "addons": {"cni": "192Mi", "dns": "170Mi", "ingress": "150Mi"},
        "workloads": {"postgres": "512Mi", "app": "384Mi"},
    }
    base.update(overrides)
    return base


def inventory_plan(env: str) -> dict:
    path = REPO / f"inventories/{env}/group_vars/onebox/memory.yml"
    return yaml.safe_load(path.read_text())["onebox_memory"]


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("512Mi", 512 * 2**20),
        ("2Gi", 2 * 2**30),
        ("1.5Gi", 3 * 2**29),
        ("64Ki", 65536),
        ("1Ti", 2**40),
        ("500M", 500 * 10**6),
        ("1G", 10**9),
        ("128k", 128000),
        ("1T", 10**12),
        ("2e9", 2 * 10**9),
        ("1E3", 1000),
        (" 64Mi ", 64 * 2**20),
        ("1048576", 2**20),
        (1048576, 2**20),
        ("0", 0),
        ("0.5", 1),  # fractions of a byte round up, as in Kubernetes
    ],
)
def test_quantities_parse_as_kubernetes_does(quantity, expected):
    assert k8s_quantity_bytes(quantity) == expected


@pytest.mark.parametrize(
    ("quantity", "mib"), [("512Mi", 512), ("500M", 477), ("1G", 954), ("1Gi", 1024), ("1", 1)]
)
def test_mib_rounds_up(quantity, mib):
    assert k8s_quantity_mib(quantity) == mib


@pytest.mark.parametrize(
    ("quantity", "says"),
    [
        ("-1Mi", "negative"),
        ("lots", "not a Kubernetes memory quantity"),
        ("512MB", "use 'M' (10^6) or 'Mi' (2^20)"),
        ("512MiB", "drop the 'B'"),
        ("1K", "Kubernetes spells kilo 'k'"),
        ("128m", "milli"),
        ("12 Mi", "not a Kubernetes memory quantity"),
        ("", "not a Kubernetes memory quantity"),
        (None, "not a memory quantity"),
        (True, "not a memory quantity"),
        ([1], "expected a memory quantity"),
        ("1e40", "larger than Kubernetes can represent"),
    ],
)
def test_bad_quantities_are_refused_naming_the_entry(quantity, says):
    with pytest.raises(AnsibleFilterError) as error:
        k8s_quantity_bytes(quantity, "onebox_memory.workloads.app")
    assert "onebox_memory.workloads.app" in str(error.value)
    assert says in str(error.value)


def test_a_plan_that_fits():
    result = memory_budget(plan(), 3915, {"dns": True, "ingress": True})
    # 256 + 640 + 200 (soft eviction, the larger) + 192 + 170 + 150 + 512 + 384
    assert result["total_mib"] == 2504
    assert result["fits"] is True
    assert result["headroom_mib"] == 3915 - 2504
    assert [row["variable"] for row in result["rows"]] == [
        "onebox_memory.system_reserved",
        "onebox_memory.kube_reserved",
        "onebox_memory.eviction_soft",
        "onebox_memory.addons.cni",
        "onebox_memory.addons.dns",
        "onebox_memory.addons.ingress",
        "onebox_memory.workloads.postgres",
        "onebox_memory.workloads.app",
    ]
    assert "fits" in result["message"]


def test_a_plan_that_does_not_fit_names_what_to_change():
    result = memory_budget(plan(), 1963, {"dns": True, "ingress": True})
    assert result["fits"] is False
    assert result["headroom_mib"] == 1963 - 2504
    message = result["message"]
    assert "does not fit: it needs 2504 MiB but the host has 1963 MiB" in message
    assert "541 MiB over; swap does not count" in message
    # The table is in the message, and the biggest entries are named as variables.
    assert "onebox_memory.workloads.app" in message
    assert (
        "Lower some of: onebox_memory.kube_reserved (640 MiB), onebox_memory.workloads.postgres"
        in message
    )
    assert "microk8s_addons" in message
    assert "DOES NOT FIT" in result["table"]


def test_exactly_full_fits():
    result = memory_budget(plan(workloads={}), 256 + 640 + 200 + 192, {})
    assert result["fits"] is True
    assert result["headroom_mib"] == 0
    assert memory_budget(plan(workloads={}), 256 + 640 + 200 + 191, {})["fits"] is False


def test_the_larger_eviction_threshold_is_kept_free():
    hard_larger = memory_budget(plan(eviction_hard="300Mi"), 4096, {})
    row = hard_larger["rows"][2]
    assert (row["variable"], row["mib"]) == ("onebox_memory.eviction_hard", 300)


def test_disabled_addons_are_not_counted_but_cni_always_is():
    result = memory_budget(plan(), 4096, {"dns": False, "ingress": False, "cni": False})
    addons = [row["variable"] for row in result["rows"] if ".addons." in row["variable"]]
    assert addons == ["onebox_memory.addons.cni"]


def test_no_workloads():
    for workloads in ({}, None):
        result = memory_budget(plan(workloads=workloads), 4096, {})
        assert not [row for row in result["rows"] if ".workloads." in row["variable"]]
        assert result["total_mib"] == 256 + 640 + 200 + 192
    no_key = plan()
    del no_key["workloads"]
    assert memory_budget(no_key, 4096, {})["total_mib"] == 256 + 640 + 200 + 192


def test_tiny_vm():
    result = memory_budget(plan(), 512, {"dns": True})
    assert result["fits"] is False
    assert result["headroom_mib"] < 0


def test_mixed_units_add_up_in_bytes():
    mixed = plan(
        system_reserved="268435456",  # 256 MiB in bytes
        kube_reserved="0.5Gi",
        eviction_soft="100M",
        eviction_hard="50M",
        addons={"cni": "200M"},
        workloads={"a": "1G", "b": "1536Mi", "c": "256k"},
    )
    result = memory_budget(mixed, 8192, {})
    expected = 256 * 2**20 + 2**29 + 10**8 + 2 * 10**8 + 10**9 + 1536 * 2**20 + 256000
    assert result["total_mib"] == -(-expected // 2**20)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            (plan(workloads={"app": "-384Mi"}), 4096, {}),
            "onebox_memory.workloads.app: '-384Mi' is negative",
        ),
        ((plan(workloads={"app": "384MB"}), 4096, {}), "onebox_memory.workloads.app: '384MB'"),
        ((plan(kube_reserved="lots"), 4096, {}), "onebox_memory.kube_reserved: 'lots'"),
        ((plan(), 4096, {"registry": True}), "onebox_memory.addons.registry is missing"),
        ((plan(), 4096, {"dns": "yes"}), "microk8s_addons.dns must be true or false"),
        ((plan(), 4096, ["dns"]), "microk8s_addons must be a mapping"),
        ((plan(addons={"dns": "70Mi"}), 4096, {}), "onebox_memory.addons.cni is missing"),
        ((plan(workload={"app": "1Gi"}), 4096, {}), "unknown entries ['workload']"),
        ((plan(), 0, {}), "memory_budget_ram_mib"),
        ((plan(), "four gigs", {}), "memory_budget_ram_mib"),
        (("onebox", 4096, {}), "onebox_memory must be a mapping"),
    ],
)
def test_bad_plans_are_refused_with_a_clear_error(args, says):
    with pytest.raises(AnsibleFilterError) as error:
        memory_budget(*args)
    assert says in str(error.value)


def test_missing_plan_entry():
    incomplete = plan()
    del incomplete["eviction_hard"]
    with pytest.raises(AnsibleFilterError, match="onebox_memory.eviction_hard is missing"):
        memory_budget(incomplete, 4096, {})


def test_production_and_staging_plans_fit_4gb_and_not_2gb():
    """A 4 GB VM shows about 3900 MiB of MemTotal, a 2 GB VM about 1950."""
    for env in ("production", "staging"):
        assert memory_budget(inventory_plan(env), 3900, ADDONS)["fits"], env
        assert not memory_budget(inventory_plan(env), 1950, ADDONS)["fits"], env


def test_inventories_define_the_same_memory_entries():
    shapes = {
        env: {
            key: sorted(value) if isinstance(value, dict) else None
            for key, value in inventory_plan(env).items()
        }
        for env in ("production", "staging", "sandbox")
    }
    assert shapes["production"] == shapes["staging"] == shapes["sandbox"]


# The role on the controller, with a fake RAM size.
def run_role(ram_mib: int, onebox_plan: dict, addons: dict | None = None):
    extra = {"memory_budget_ram_mib": ram_mib, "onebox_memory": onebox_plan}
    if addons is not None:
        extra["microk8s_addons"] = addons
    result = run_playbook(
        REPO / "tests/playbooks/memory_budget.yml", "-i", "localhost,", extra_vars=extra
    )
    return result.returncode, result.stdout + result.stderr


def test_role_fails_an_oversized_plan_with_the_table_and_variable_names():
    oversized = plan(workloads={"postgres": "1Gi", "app": "768Mi"})
    returncode, output = run_role(1024, oversized, {"dns": True, "ingress": True})
    assert returncode != 0, output
    assert "The memory plan does not fit: it needs 3400 MiB but the host has 1024 MiB" in output
    assert "consumer" in output and "set by" in output
    assert "onebox_memory.workloads.postgres" in output
    assert "onebox_memory.workloads.app" in output
    assert "DOES NOT FIT" in output


def test_role_passes_a_fitting_plan_and_prints_the_table():
    returncode, output = run_role(4096, plan(), {"dns": True, "ingress": True})
    assert returncode == 0, output
    assert "The memory plan fits: 2504 MiB planned of 4096 MiB RAM" in output
    assert "onebox_memory.workloads.postgres" in output
    assert "headroom" in output


def test_role_counts_every_addon_until_microk8s_addons_exists():
    returncode, output = run_role(4096, plan())
    assert returncode == 0, output
    # cni + dns + ingress, all of the plan's addons.
    assert "The memory plan fits: 2504 MiB planned" in output


def test_role_refuses_a_bad_quantity_naming_the_entry():
    returncode, output = run_role(4096, plan(workloads={"app": "big"}), {})
    assert returncode != 0
    assert "onebox_memory.workloads.app: 'big' is not a Kubernetes memory quantity" in output
