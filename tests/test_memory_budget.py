"""The memory budget: Kubernetes quantities, the sum against RAM, and the role's verdict."""

from __future__ import annotations

import copy

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from conftest import REPO, filter_plugin, run_playbook

memory_budget_module = filter_plugin("memory_budget")
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
    """The plan an environment runs with: its own onebox_memory, else the shared one."""
    found = yaml.safe_load((REPO / "playbooks/group_vars/all/memory.yml").read_text())
    for path in sorted((REPO / f"inventories/{env}/group_vars").rglob("*.yml")):
        found.update(yaml.safe_load(path.read_text()) or {})
    return found["onebox_memory"]


READER = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
app_profile_module = filter_plugin("app_profile")
app_profile_workloads = app_profile_module.app_profile_workloads


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
    """A 4 GB VM shows about 3900 MiB of MemTotal, a 2 GB VM about 1950. The app's processes
    and its release Job come from its profile."""
    app = app_profile_workloads(READER)
    for env in ("production", "staging"):
        assert memory_budget(inventory_plan(env), 3900, ADDONS, app)["fits"], env
        assert not memory_budget(inventory_plan(env), 1950, ADDONS, app)["fits"], env


def test_the_app_counts_each_process_and_the_largest_release_command():
    profile = {
        "processes": {"web": {"memory": "256Mi"}, "worker": {"memory": "128Mi"}},
        "release": [
            {"name": "migrate", "command": ["m"]},
            {"name": "load", "command": ["l"], "memory": "300Mi"},
        ],
        "release_memory": "100Mi",
    }
    rows = app_profile_workloads(profile)
    assert rows == [
        {"name": "app web", "memory": "256Mi", "variable": "onebox_app.processes.web.memory"},
        {"name": "app worker", "memory": "128Mi", "variable": "onebox_app.processes.worker.memory"},
        {"name": "app release Job", "memory": "300Mi", "variable": "onebox_app.release[1].memory"},
        # playbooks/run.yml's pod: release_memory unless the profile sets run_memory.
        {
            "name": "app one-off pod",
            "memory": "100Mi",
            "variable": "onebox_app.release_memory",
        },
    ]
    # Init containers run one at a time: the Job holds the largest, not the sum.
    total = memory_budget(plan(workloads={}), 8192, {}, rows)["total_mib"]
    assert (
        total
        == memory_budget(plan(workloads={}), 8192, {}, [])["total_mib"] + 256 + 128 + 300 + 100
    )
    with pytest.raises(AnsibleFilterError, match="onebox_app.processes must hold at least web"):
        app_profile_workloads({"processes": {"worker": {"memory": "1Mi"}}})


def test_the_one_off_pod_is_counted_with_its_own_variable():
    """playbooks/run.yml's pod runs beside everything else: its memory is a line of the budget,
    so a plan that has no room for it does not fit."""
    profile = {**copy.deepcopy(READER), "run_memory": "1Gi"}
    rows = app_profile_workloads(profile)
    assert rows[-1] == {
        "name": "app one-off pod",
        "memory": "1Gi",
        "variable": "onebox_app.run_memory",
    }
    without = [row for row in rows if row["variable"] != "onebox_app.run_memory"]
    room = memory_budget(plan(), 8192, {}, without)["total_mib"] + 512
    assert memory_budget(plan(), room, {}, without)["fits"]
    verdict = memory_budget(plan(), room, {}, rows)
    assert not verdict["fits"]
    assert "onebox_app.run_memory (1024 MiB)" in verdict["message"]


def test_the_budget_names_a_bad_quantity_where_it_is_set():
    rows = [{"name": "app web", "memory": "big", "variable": "onebox_app.processes.web.memory"}]
    with pytest.raises(AnsibleFilterError, match="onebox_app.processes.web.memory: 'big'"):
        memory_budget(plan(), 4096, {}, rows)


# The role on the controller, with a fake RAM size, wired as in a real run
# (tests/playbooks/group_vars links playbooks/group_vars: the plan, the reader's profile).
def run_role(ram_mib: int, onebox_plan: dict, addons: dict | None = None, **extra_vars):
    extra = {"memory_budget_ram_mib": ram_mib, "onebox_memory": onebox_plan, **extra_vars}
    if addons is not None:
        extra["microk8s_addons"] = addons
    result = run_playbook(
        REPO / "tests/playbooks/memory_budget.yml", "-i", "localhost,", extra_vars=extra
    )
    return result.returncode, result.stdout + result.stderr


def with_web_memory(quantity: str) -> dict:
    profile = copy.deepcopy(READER)
    profile["processes"]["web"]["memory"] = quantity
    return profile


# system 256 + kube 640 + eviction 200 + cni 192 + dns 170 + ingress 150 + postgres 512
# + the reader's web 384, release Job 128 and one-off pod 128 (release_memory).
FITTING_TOTAL = 2760


def test_role_fails_an_oversized_plan_with_the_table_and_variable_names():
    oversized = plan(workloads={"postgres": "1Gi"})
    returncode, output = run_role(
        1024, oversized, {"dns": True, "ingress": True}, onebox_app=with_web_memory("768Mi")
    )
    assert returncode != 0, output
    needed = FITTING_TOTAL + 512 + 384
    says = f"The memory plan does not fit: it needs {needed} MiB but the host has 1024 MiB"
    assert says in output
    assert "consumer" in output and "set by" in output
    assert "onebox_memory.workloads.postgres" in output
    assert "onebox_app.processes.web.memory" in output
    assert "DOES NOT FIT" in output


def test_role_passes_a_fitting_plan_and_prints_the_table():
    addons = {"dns": True, "ingress": True}
    returncode, output = run_role(4096, plan(workloads={"postgres": "512Mi"}), addons)
    assert returncode == 0, output
    assert f"The memory plan fits: {FITTING_TOTAL} MiB planned of 4096 MiB RAM" in output
    assert "onebox_memory.workloads.postgres" in output
    assert "onebox_app.release_memory" in output
    assert "headroom" in output


def test_role_leaves_out_addons_that_are_off():
    returncode, output = run_role(4096, plan(workloads={"postgres": "512Mi"}), {"dns": False})
    assert returncode == 0, output
    # The CNI is always counted; dns is off and ingress is not listed.
    assert f"The memory plan fits: {FITTING_TOTAL - 170 - 150} MiB planned" in output


def test_role_refuses_a_bad_quantity_naming_the_entry():
    returncode, output = run_role(
        4096, plan(workloads={"postgres": "512Mi"}), {}, onebox_app=with_web_memory("big")
    )
    assert returncode != 0
    assert "onebox_app.processes.web.memory: 'big' is not a Kubernetes memory quantity" in output
