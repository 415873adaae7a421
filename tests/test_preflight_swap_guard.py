"""swap_guard's preflight refuses bad input before any change, naming the variable.

Every case is a host of one generated inventory (its variables are the inputs), so a single
ansible-playbook run on the controller checks them all.
"""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO, case_outcomes

# A path on this machine's disk that does not exist yet (the preflight only reads).
SWAP_PATH = str(REPO / ".cache/test-swap-guard/swapfile")

GOOD = {"good": {"swap_guard_ram_mib": 3915}}
# RAM (MiB) -> (auto swap MiB, auto vm.min_free_kbytes): 1, 2, 4 and 8 GB VMs.
AUTO = {960: (1024, 24576), 1963: (2048, 50253), 3915: (2048, 100224), 7960: (2048, 203776)}
BAD = {
    "size-not-a-size": ({"swap_guard_size": "lots"}, "swap_guard_size"),
    "size-in-MB": ({"swap_guard_size": "2GB"}, "swap_guard_size"),
    "size-negative": ({"swap_guard_size": "-1Gi"}, "swap_guard_size"),
    "size-too-small": ({"swap_guard_size": "8Mi"}, "swap_guard_size"),
    # Larger than any disk this test runs on.
    "size-over-free-space": ({"swap_guard_size": "512Ti"}, "swap_guard_size"),
    "swappiness-high": ({"swap_guard_swappiness": 300}, "swap_guard_swappiness"),
    "swappiness-negative": ({"swap_guard_swappiness": -1}, "swap_guard_swappiness"),
    "swappiness-word": ({"swap_guard_swappiness": "low"}, "swap_guard_swappiness"),
    "min-free-word": ({"swap_guard_min_free_kbytes": "lots"}, "swap_guard_min_free_kbytes"),
    "min-free-huge": ({"swap_guard_min_free_kbytes": 10**9}, "swap_guard_min_free_kbytes"),
    "vfs-zero": ({"swap_guard_vfs_cache_pressure": 0}, "swap_guard_vfs_cache_pressure"),
    "watermark-high": (
        {"swap_guard_watermark_scale_factor": 5000},
        "swap_guard_watermark_scale_factor",
    ),
    "path-relative": ({"swap_guard_path": "swapfile"}, "swap_guard_path"),
    "path-in-dev": ({"swap_guard_path": "/dev/shm/swap"}, "swap_guard_path"),
    "path-not-swap": ({"swap_guard_path": "/etc/hostname"}, "swap_guard_path"),
    "path-directory": ({"swap_guard_path": "/etc"}, "swap_guard_path"),
    "state-unknown": ({"swap_guard_state": "off"}, "swap_guard_state"),
    "earlyoom-zero": (
        {"swap_guard_earlyoom_mem_term_percent": 0},
        "swap_guard_earlyoom_mem_term_percent",
    ),
    "earlyoom-kill-above-term": (
        {"swap_guard_earlyoom_mem_kill_percent": 9},
        "swap_guard_earlyoom_mem_kill_percent",
    ),
    "avoid-space": ({"swap_guard_earlyoom_avoid": ["ssh d"]}, "swap_guard_earlyoom_avoid"),
    "prefer-quotes": ({"swap_guard_earlyoom_prefer": ["'gunicorn'"]}, "swap_guard_earlyoom_prefer"),
    "zram-algorithm": (
        {"swap_guard_zram_enabled": True, "swap_guard_zram_algorithm": "gzip"},
        "swap_guard_zram_algorithm",
    ),
}
ABSENT = {"absent-skips-size": {"swap_guard_state": "absent", "swap_guard_size": "512Ti"}}


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    """One preflight run; for each case: failed or not, and every message it printed."""
    cases = {**GOOD, **ABSENT}
    cases |= {f"auto-{ram}": {"swap_guard_ram_mib": ram} for ram in AUTO}
    cases |= {name: overrides for name, (overrides, _) in BAD.items()}
    hosts = {name: {"swap_guard_path": SWAP_PATH, **overrides} for name, overrides in cases.items()}
    return case_outcomes(
        REPO / "tests/playbooks/swap_guard_preflight_cases.yml",
        {"all": {"hosts": hosts}},
        tmp_path_factory.mktemp("swap_guard"),
        facts_from="good",
    )


def test_good_input_passes_and_shows_the_derived_plan(outcomes):
    outcome = outcomes["good"]
    assert not outcome["failed"], outcome
    plan = " ".join(outcome["messages"])
    # auto on a 4 GB VM: 2 GiB of swap; min_free_kbytes 2.5 % of RAM.
    assert f"swap present: 2048 MiB at {SWAP_PATH}" in plan
    assert "vm.min_free_kbytes=100224" in plan
    assert "-m 6,3 -s 100,100" in plan


@pytest.mark.parametrize("ram_mib", AUTO)
def test_auto_sizes_follow_the_ram(outcomes, ram_mib):
    outcome = outcomes[f"auto-{ram_mib}"]
    swap_mib, min_free_kbytes = AUTO[ram_mib]
    assert not outcome["failed"], outcome
    plan = " ".join(outcome["messages"])
    assert f"swap present: {swap_mib} MiB" in plan
    assert f"vm.min_free_kbytes={min_free_kbytes}" in plan


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_naming_the_variable(outcomes, case):
    outcome = outcomes[case]
    _, named = BAD[case]
    assert outcome["failed"], outcome
    assert named in " ".join(outcome["messages"])
    # Refused in the checks: the plan (the last preflight task) was never shown.
    assert not any(message.startswith("swap present") for message in outcome["messages"])


def test_size_larger_than_free_space_says_so(outcomes):
    message = " ".join(outcomes["size-over-free-space"]["messages"])
    assert "does not fit where swap_guard_path" in message
    assert "MiB free" in message


def test_absent_needs_no_size_check(outcomes):
    outcome = outcomes["absent-skips-size"]
    assert not outcome["failed"], outcome


@pytest.mark.parametrize("role", ["swap_guard", "memory_budget"])
def test_defaults_and_argument_specs_agree(role):
    defaults = yaml.safe_load((REPO / f"roles/{role}/defaults/main.yml").read_text())
    specs = yaml.safe_load((REPO / f"roles/{role}/meta/argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    assert specs["argument_specs"]["preflight"]["options"] == options
    for name, spec in options.items():
        if "default" in spec:
            assert spec["default"] == defaults[name], name
        else:
            # Only defaults computed from facts or other variables go without a literal one.
            assert "{{" in str(defaults[name]), name
