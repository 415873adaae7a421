"""Verify swap_guard against the real state of the container (and of the kernel it shares)."""

import pytest

SWAP = "/srv/host-disk/onebox-swap-guard-default.swap"
SIZE_MIB = 96
FSTAB_LINE = f"{SWAP} none swap sw,nofail 0 0"
SYSCTLS = {
    "vm.swappiness": 10,
    "vm.min_free_kbytes": 90112,
    "vm.watermark_scale_factor": 100,
    "vm.vfs_cache_pressure": 200,
}
EARLYOOM_ARGS = [
    "/usr/bin/earlyoom",
    "-r",
    "3600",
    "-m",
    "6,3",
    "-s",
    "100,100",
    "--prefer",
    "^(gunicorn.*)$",
    "--avoid",
    "^(sshd|kubelite|containerd.*|k8s-dqlite|dqlite|postgres|systemd.*)$",
]


def active_swaps(host) -> dict[str, dict]:
    """/proc/swaps by path: the kernel's own list (shared with the test machine)."""
    lines = host.file("/proc/swaps").content_string.splitlines()[1:]
    swaps = {}
    for line in lines:
        path, kind, size, used, priority = line.split()
        swaps[path] = {"type": kind, "size_kib": int(size), "priority": int(priority)}
    return swaps


def test_swap_file_is_active_at_the_right_size(host):
    swap = active_swaps(host).get(SWAP)
    assert swap is not None, f"{SWAP} is not in /proc/swaps"
    assert swap["type"] == "file"
    # The kernel counts the file minus its one-page header.
    assert swap["size_kib"] == SIZE_MIB * 1024 - 4


def test_swap_file_is_whole_and_private(host):
    swap = host.file(SWAP)
    assert swap.size == SIZE_MIB * 1024 * 1024
    assert swap.mode == 0o600
    assert swap.user == "root"
    assert swap.group == "root"
    # Written with real zeros: as many bytes allocated as its size (no holes).
    blocks, block_size = host.check_output("stat --format '%%b %%B' %s", SWAP).split()
    assert int(blocks) * int(block_size) >= SIZE_MIB * 1024 * 1024
    assert host.check_output("blkid --probe --output value --match-tag TYPE %s", SWAP) == "swap"
    assert not host.file(f"{SWAP}.new").exists


def test_fstab_has_one_correct_line(host):
    lines = [
        line
        for line in host.file("/etc/fstab").content_string.splitlines()
        if line.split()[:1] == [SWAP]
    ]
    assert lines == [FSTAB_LINE]


def test_fstab_line_turns_the_swap_on(host):
    """What the boot does: `swapon -a` reads fstab (systemd skips swap units in containers)."""
    host.run_test("swapoff %s", SWAP)
    assert SWAP not in active_swaps(host)
    host.run_test("swapon --all")
    assert active_swaps(host)[SWAP]["size_kib"] == SIZE_MIB * 1024 - 4


@pytest.mark.parametrize(("key", "value"), SYSCTLS.items())
def test_kernel_settings_in_force(host, key, value):
    path = "/proc/sys/" + key.replace(".", "/")
    assert int(host.file(path).content_string) == value


def test_kernel_settings_persist(host):
    config = host.file("/etc/sysctl.d/90-onebox-swap-guard.conf")
    assert config.mode == 0o644
    settings = {
        key.strip(): int(value)
        for key, value in (
            line.split("=")
            for line in config.content_string.splitlines()
            if line.strip() and not line.startswith("#")
        )
    }
    assert settings == SYSCTLS


def test_earlyoom_runs_with_the_configured_arguments(host):
    earlyoom = host.service("earlyoom")
    assert earlyoom.is_running
    assert earlyoom.is_enabled
    pid = host.check_output("systemctl show --property MainPID --value earlyoom")
    argv = host.file(f"/proc/{pid}/cmdline").content.split(b"\0")[:-1]
    assert [arg.decode() for arg in argv] == EARLYOOM_ARGS


def test_earlyoom_reports_its_patterns_in_the_journal(host):
    journal = host.check_output("journalctl --unit earlyoom --boot --no-pager --output cat")
    assert "Preferring to kill process names that match regex '^(gunicorn.*)$'" in journal
    assert "Will avoid killing process names that match regex '^(sshd|kubelite|" in journal
    assert "sending SIGTERM when mem <=  6.00% and swap <= 100.00%" in journal


def test_zram_is_off(host):
    assert not host.package("zram-tools").is_installed
    assert not [path for path in active_swaps(host) if path.startswith("/dev/zram")]
