"""swap_guard's preflight refuses bad input before any change, naming the variable."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO, run_playbook

# A path on this machine's disk that does not exist yet (the preflight only reads).
SWAP_PATH = str(REPO / ".cache/test-swap-guard/swapfile")


def preflight(**overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={"preflight_role": "swap_guard", "swap_guard_path": SWAP_PATH, **overrides},
    )


def test_good_input_passes_and_shows_the_derived_plan():
    result = preflight(swap_guard_ram_mib=3915)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # auto on a 4 GB VM: 2 GiB of swap; min_free_kbytes 2.5 % of RAM.
    assert f"swap present: 2048 MiB at {SWAP_PATH}" in output
    assert "vm.min_free_kbytes=100224" in output
    assert "-m 6,3 -s 100,100" in output


@pytest.mark.parametrize(
    ("ram_mib", "swap_mib", "min_free_kbytes"),
    [(960, 1024, 24576), (1963, 2048, 50253), (3915, 2048, 100224), (7960, 2048, 203776)],
)
def test_auto_sizes_follow_the_ram(ram_mib, swap_mib, min_free_kbytes):
    result = preflight(swap_guard_ram_mib=ram_mib)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"swap present: {swap_mib} MiB" in output
    assert f"vm.min_free_kbytes={min_free_kbytes}" in output


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"swap_guard_size": "lots"}, "swap_guard_size"),
        ({"swap_guard_size": "2GB"}, "swap_guard_size"),
        ({"swap_guard_size": "-1Gi"}, "swap_guard_size"),
        ({"swap_guard_size": "8Mi"}, "swap_guard_size"),
        # Larger than any disk this test runs on.
        ({"swap_guard_size": "512Ti"}, "swap_guard_size"),
        ({"swap_guard_swappiness": 300}, "swap_guard_swappiness"),
        ({"swap_guard_swappiness": -1}, "swap_guard_swappiness"),
        ({"swap_guard_swappiness": "low"}, "swap_guard_swappiness"),
        ({"swap_guard_min_free_kbytes": "lots"}, "swap_guard_min_free_kbytes"),
        ({"swap_guard_min_free_kbytes": 10**9}, "swap_guard_min_free_kbytes"),
        ({"swap_guard_vfs_cache_pressure": 0}, "swap_guard_vfs_cache_pressure"),
        ({"swap_guard_watermark_scale_factor": 5000}, "swap_guard_watermark_scale_factor"),
        ({"swap_guard_path": "swapfile"}, "swap_guard_path"),
        ({"swap_guard_path": "/dev/shm/swap"}, "swap_guard_path"),
        ({"swap_guard_path": "/etc/hostname"}, "swap_guard_path"),
        ({"swap_guard_path": "/etc"}, "swap_guard_path"),
        ({"swap_guard_state": "off"}, "swap_guard_state"),
        ({"swap_guard_earlyoom_mem_term_percent": 0}, "swap_guard_earlyoom_mem_term_percent"),
        ({"swap_guard_earlyoom_mem_kill_percent": 9}, "swap_guard_earlyoom_mem_kill_percent"),
        ({"swap_guard_earlyoom_avoid": ["ssh d"]}, "swap_guard_earlyoom_avoid"),
        ({"swap_guard_earlyoom_prefer": ["'gunicorn'"]}, "swap_guard_earlyoom_prefer"),
        (
            {"swap_guard_zram_enabled": True, "swap_guard_zram_algorithm": "gzip"},
            "swap_guard_zram_algorithm",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_variable(overrides, named):
    result = preflight(**overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert named in output


def test_size_larger_than_free_space_says_so():
    result = preflight(swap_guard_size="512Ti")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "does not fit where swap_guard_path" in output
    assert "MiB free" in output


def test_absent_needs_no_size_check():
    result = preflight(swap_guard_state="absent", swap_guard_size="512Ti")
    assert result.returncode == 0, result.stdout + result.stderr


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
