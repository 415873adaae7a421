"""swap_guard_state: absent turns the swap off and removes its fstab line and file, and a
second run changes nothing. Runs the role against the container from the controller; named so
that it runs after test_resize.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

SWAP = "/srv/host-disk/onebox-swap-guard-resize.swap"
REPO = Path(__file__).resolve().parents[5]
PLAYBOOK = """
- name: Remove the swap file
  hosts: all
  roles:
    - role: swap_guard
      vars:
        swap_guard_state: absent
        swap_guard_path: {path}
        swap_guard_sysctl_enabled: false
        swap_guard_earlyoom_enabled: false
"""


def run_absent(host, tmp_path) -> dict:
    playbook = tmp_path / "absent.yml"
    playbook.write_text(PLAYBOOK.format(path=SWAP))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_ROLES_PATH=str(REPO / "roles"),
        ANSIBLE_FILTER_PLUGINS=str(REPO / "plugins/filter"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_NOCOLOR="1",
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            f"{host.backend.host},",
            "-c",
            "community.docker.docker",
            "-u",
            "root",
            # Only the swap file: the kernel settings and earlyoom are not what is tested here.
            "--tags",
            "swap_guard_preflight,swap_guard_swap",
            str(playbook),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads(result.stdout)["stats"][host.backend.host]


def test_absent_removes_the_swap_cleanly(host, tmp_path):
    stats = run_absent(host, tmp_path)
    assert stats["changed"] > 0
    active = [line.split()[0] for line in host.file("/proc/swaps").content_string.splitlines()[1:]]
    assert SWAP not in active
    assert not host.file(SWAP).exists
    assert SWAP not in host.file("/etc/fstab").content_string
    # A second run finds nothing to do.
    assert run_absent(host, tmp_path)["changed"] == 0
