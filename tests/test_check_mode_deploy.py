"""playbooks/deploy.yml in check mode on a host with no cluster yet completes and changes nothing.

ci/deploy.sh runs site.yml --check --diff first, on a fresh VM too: there MicroK8s and the
Kubernetes client's virtualenv are only planned, so the workload roles (kube_client, postgres,
app, ingress, backup; redis when the profile has it) cannot be dry-run against the API. This runs
them in check mode on this machine (no MicroK8s, no /opt/onebox) with the playbooks' default
onebox_kube_apply: true, as the primary of an inventory made from the sandbox's settings.
"""

import os
import subprocess
import sys
from pathlib import Path

from conftest import BIN, REPO

# What the roles would write on the host: each must still be absent after the check run.
WRITTEN = [
    "/etc/onebox",
    "/opt/onebox",
    "/var/lib/onebox",
    "/var/backups/onebox",
]


def inventory(tmp_path: Path) -> Path:
    root = tmp_path / "inventory"
    (root / "group_vars/onebox").mkdir(parents=True)
    (root / "hosts.yml").write_text(
        "all:\n  children:\n    onebox:\n      children:\n        onebox_primary:\n"
        "          hosts:\n            localhost:\n              ansible_connection: local\n"
        f"              ansible_python_interpreter: {sys.executable}\n"
    )
    # The sandbox's workload settings, without its onebox_kube_apply: false.
    workloads = (REPO / "inventories/sandbox/group_vars/onebox/workloads.yml").read_text()
    assert "onebox_kube_apply: false\n" in workloads
    (root / "group_vars/onebox/workloads.yml").write_text(
        workloads.replace("onebox_kube_apply: false\n", "")
    )
    (root / "group_vars/onebox/secrets.yml").write_text(
        "vault_postgres_password: p\nvault_django_secret_key: k\n"
        "vault_ingress_basic_auth_password: b\n"
        f"backup_controller_dir: {tmp_path / 'backups'}\n"
    )
    return root


def test_deploy_in_check_mode_without_a_cluster_completes_and_writes_nothing(tmp_path):
    for path in WRITTEN:
        assert not Path(path).exists(), f"{path} exists on this machine: the test cannot tell"
    # Not conftest's run_playbook: six roles take longer than its 300 s on a busy machine.
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "playbooks/deploy.yml", "-i", str(inventory(tmp_path))]
        + ["--check", "--diff"],
        cwd=REPO,
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # The plan's message, as the YAML callback wraps it.
    assert (
        "Check mode: /var/snap/microk8s/current/credentials/client.config and "
        "/opt/onebox/kube-venv/bin/python do not exist" in " ".join(output.split())
    ), output[-4000:]
    for path in WRITTEN:
        assert not Path(path).exists(), path
