"""The doctor for real: playbooks/doctor.yml, as a person runs it, against a container that plays
the VM (systemd, earlyoom, a backup directory with a fresh dump; no MicroK8s).

- healthy: every host line is green and the backup dump line too; the only red lines are the
  cluster's "MicroK8s is not installed", and they make the playbook exit non-zero;
- read-only: nothing under /etc, /var, /usr, /srv, /opt or /root is written by a run;
- planted faults, each taken back after: a full backup directory (a 1 MiB tmpfs mounted on
  it and filled) is red; swap in use over its threshold is red (a real swap file, and real
  pages pushed into it by a process in a memory cgroup limited below its size; the threshold
  is lowered to 16 MiB so the test swaps tens of MiB, not hundreds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[5]
BIN = Path(sys.executable).parent
CONTAINER = "onebox-doctor-default"
BACKUP_DIR = "/var/backups/onebox"
HOST_CHECKS = [
    "RAM available",
    "swap in use",
    "memory pressure",
    "earlyoom kills (24 h)",
    "free disk /",
    "free disk /var/snap",
    f"free disk {BACKUP_DIR}",
]
CLUSTER_SECTIONS = {"microk8s", "pods"}


def doctor(
    tmp_path: Path, *extra: str, env_extra: dict | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """Run playbooks/doctor.yml against the container; return the run and its JSON report."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "children": {
                        "onebox": {
                            "children": {
                                "onebox_primary": {
                                    "hosts": {
                                        CONTAINER: {
                                            "ansible_connection": "community.docker.docker",
                                            "ansible_user": "root",
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        )
    )
    report = tmp_path / "doctor.json"
    report.unlink(missing_ok=True)
    # molecule's own settings (its ansible.cfg, roles path) stay out: the repository's apply.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN}:{env.get('PATH', '')}",
        **(env_extra or {}),
    )
    run = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "playbooks/doctor.yml",
            "-i",
            str(inventory),
            "-e",
            f"doctor_json_path={report}",
            *extra,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(report.read_text())
    print("\n".join(result["text"]))
    return run, result


def line(result: dict, check: str) -> dict:
    found = [entry for entry in result["lines"] if entry["check"] == check]
    assert len(found) == 1, (check, [entry["check"] for entry in result["lines"]])
    return found[0]


@pytest.fixture(scope="module")
def healthy(host, tmp_path_factory):
    """One run of the whole playbook on the healthy container, in the JSON format (the text
    format is converge's), with a marker to find what the run wrote."""
    host.run_test("touch /run/onebox-doctor-marker && sleep 1")
    run, result = doctor(
        tmp_path_factory.mktemp("healthy"),
        "-e",
        "doctor_format=json",
        # The callback's JSON result format prints the task's msg (the report) unwrapped.
        env_extra={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
    )
    written = host.check_output(
        "find /etc /var /usr /srv /opt /root -xdev -newer /run/onebox-doctor-marker "
        "-not -path '/var/log/journal/*' -not -path '/root/.ansible/*' -not -path '/root/.ansible'"
        " -print"
    )
    return run, result, written


def test_every_host_line_is_green(healthy):
    _, result, _ = healthy
    for check in HOST_CHECKS:
        assert line(result, check)["status"] == "green", line(result, check)
    assert line(result, "swap in use")["value"] < 64


def test_the_fresh_dump_is_green_and_no_off_site_copy_is_amber(healthy):
    _, result, _ = healthy
    dump = line(result, "newest dump")
    assert dump["status"] == "green" and dump["value"] < 1, dump
    offsite = line(result, "newest off-site snapshot")
    assert offsite["status"] == "amber"
    assert "no off-site copy configured" in offsite["detail"]


def test_without_microk8s_the_cluster_lines_are_red_and_the_run_fails(healthy):
    run, result, _ = healthy
    red = [entry for entry in result["lines"] if entry["status"] == "red"]
    cluster = [entry for entry in red if entry["section"] in CLUSTER_SECTIONS]
    assert len(cluster) == 8
    assert all(entry["detail"] == "MicroK8s is not installed on this host" for entry in cluster)
    # The certificate's cluster line is red for the same reason; nothing else is red.
    others = [entry for entry in red if entry["section"] not in CLUSTER_SECTIONS]
    assert [entry["check"] for entry in others] == ["days left (Certificate)"], others
    assert others[0]["detail"] == "MicroK8s is not installed on this host"
    assert result["status"] == "red"
    assert run.returncode == 2, run.stdout[-2000:]
    assert "9 red line(s)" in run.stdout
    assert "changed=0" in run.stdout


def test_a_run_writes_nothing_on_the_host(healthy):
    _, _, written = healthy
    assert written == ""


def test_json_format_prints_the_report(healthy):
    run, result, _ = healthy
    shown = run.stdout.split("TASK [doctor : Show the report]", 1)[1]
    shown = shown.split("=> ", 1)[1].split("\n\nTASK", 1)[0]
    printed = json.loads(json.loads(shown)["msg"])
    assert printed == result
    assert printed["counts"]["red"] == 9


def test_a_full_backup_directory_is_red(host, tmp_path):
    assert not host.mount_point(BACKUP_DIR).exists
    host.run_test("mount -t tmpfs -o size=1m,mode=0700 onebox-doctor-full %s", BACKUP_DIR)
    try:
        host.run("dd if=/dev/zero of=%s/filler bs=64k count=64", BACKUP_DIR)
        _, result = doctor(tmp_path)
    finally:
        host.run_test("umount %s", BACKUP_DIR)
    disk = line(result, f"free disk {BACKUP_DIR}")
    assert disk["status"] == "red", disk
    assert disk["value"] == 0
    assert "0 MiB free of 1 MiB" in disk["detail"]
    # The tmpfs hid the dump: the dump line sees an empty directory.
    assert line(result, "newest dump")["status"] == "red"
    assert line(result, "free disk /")["status"] == "green"


HOG = """
import os, sys, time
open("/run/onebox-doctor-swap-hog.pid", "w").write(str(os.getpid()))
hog = bytearray(int(sys.argv[1]) << 20)
for i in range(0, len(hog), 4096):
    hog[i] = 1  # touched, so every page is really there (and, over the limit, swapped)
time.sleep(float(sys.argv[2]))
"""


def swap_used_mib(host) -> int:
    meminfo = dict(
        (row.split(":")[0], int(row.split()[1]))
        for row in host.file("/proc/meminfo").content_string.splitlines()
    )
    return (meminfo["SwapTotal"] - meminfo["SwapFree"]) // 1024


def test_swap_in_use_over_its_threshold_is_red(host, tmp_path):
    swap, cgroup = "/srv/host-disk/onebox-doctor.swap", "/sys/fs/cgroup/memory/onebox-doctor-swap"
    before = swap_used_mib(host)
    host.run_test("dd if=/dev/zero of=%s bs=1M count=96 status=none && chmod 0600 %s", swap, swap)
    host.run_test("mkswap %s >/dev/null && swapon %s", swap, swap)
    try:
        host.run_test("mkdir -p %s && echo 24M > %s/memory.limit_in_bytes", cgroup, cgroup)
        host.run_test(
            "echo %s | base64 -d > /run/onebox-doctor-swap-hog.py",
            __import__("base64").b64encode(HOG.encode()).decode(),
        )
        # The hog joins the cgroup before it allocates: 64 MiB in a 24 MiB cgroup swaps ~40.
        host.run_test(
            "sh -c 'echo $$ > %s/cgroup.procs && exec python3 /run/onebox-doctor-swap-hog.py"
            " 64 120' >/dev/null 2>&1 &",
            cgroup,
        )
        deadline = time.time() + 30
        while swap_used_mib(host) - before < 24 and time.time() < deadline:
            time.sleep(0.5)
        measured = swap_used_mib(host)
        print(f"\nswap in use: {before} MiB before, {measured} MiB with the hog")
        assert measured - before >= 24, "the hog's pages did not reach the swap file"
        # As JSON: numbers (-e key=value would pass strings, which the preflight refuses).
        thresholds = {"doctor_swap_used_amber_mib": 8, "doctor_swap_used_red_mib": 16}
        _, result = doctor(tmp_path, "-e", json.dumps(thresholds))
    finally:
        host.run(
            "kill $(cat /run/onebox-doctor-swap-hog.pid); rm -f /run/onebox-doctor-swap-hog.pid"
        )
        time.sleep(1)
        host.run("swapoff %s; rm -f %s; rmdir %s", swap, swap, cgroup)
    used = line(result, "swap in use")
    assert used["status"] == "red", used
    assert used["value"] >= 16
    assert f"{used['value']} MiB of" in used["detail"]
    assert swap not in host.file("/proc/swaps").content_string
