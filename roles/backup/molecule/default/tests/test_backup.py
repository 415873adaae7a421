"""Verify the backup role's host side on the container: directory, scripts, rendered manifests."""

import hashlib
from pathlib import Path

import pytest
import yaml

FILES = Path(__file__).resolve().parents[3] / "files"
BACKUP_DIR = "/srv/host-disk/backups"
MANIFESTS = "/etc/onebox/manifests/backup"


def test_backup_directory_is_private_to_the_postgres_user(host):
    directory = host.file(BACKUP_DIR)
    assert directory.is_directory
    assert directory.mode == 0o700
    assert directory.uid == 999  # the postgres image's user, which the pods run as
    assert directory.gid == 999
    # Another unprivileged user cannot even list it.
    listing = host.run("runuser -u nobody -- ls %s", BACKUP_DIR)
    assert listing.rc != 0
    assert "Permission denied" in listing.stderr


@pytest.mark.parametrize("script", ["onebox-backup", "onebox-restore"])
def test_scripts_are_installed_and_run(host, script):
    installed = host.file(f"/usr/local/sbin/{script}")
    assert installed.mode == 0o755
    assert installed.user == "root"
    expected = hashlib.sha256((FILES / script).read_bytes()).hexdigest()
    assert installed.sha256sum == expected
    assert host.run(f"{script} --help").rc == 0
    # With no PostgreSQL client on the host, they stop at once and say why (exit 1).
    args = f"--dir {BACKUP_DIR}" if script == "onebox-backup" else "some.dump"
    result = host.run(f"{script} {args}")
    assert result.rc == 1
    assert "is not installed or not on PATH" in result.stderr


def test_manifests_are_rendered_and_readable(host):
    directory = host.file(MANIFESTS)
    assert directory.mode == 0o700
    names = sorted(host.check_output("ls %s", MANIFESTS).split())
    assert names == [
        "configmap.yaml",
        "cronjob.yaml",
        "persistentvolume.yaml",
        "persistentvolumeclaim.yaml",
    ]
    for name in names:
        assert host.file(f"{MANIFESTS}/{name}").mode == 0o644  # no secret in any of them


def test_cronjob_takes_the_converge_inputs(host):
    cronjob = yaml.safe_load(host.file(f"{MANIFESTS}/cronjob.yaml").content_string)
    assert cronjob["spec"]["schedule"] == "15 1 * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][container["args"].index("--keep") + 1] == "5"
    assert container["resources"]["limits"]["memory"] == "96Mi"
    assert container["resources"]["requests"]["memory"] == "96Mi"
    volume = yaml.safe_load(host.file(f"{MANIFESTS}/persistentvolume.yaml").content_string)
    assert volume["spec"]["hostPath"] == {"path": BACKUP_DIR, "type": "Directory"}


def test_configmap_carries_the_installed_scripts(host):
    configmap = yaml.safe_load(host.file(f"{MANIFESTS}/configmap.yaml").content_string)
    for script in ("onebox-backup", "onebox-restore"):
        assert configmap["data"][script] == host.file(f"/usr/local/sbin/{script}").content_string


def test_nothing_was_applied(host):
    # converge.yml points backup_kube_python at a stand-in that logs every module run with it:
    # backup_kube_apply: false must have run none (no apply, no read of the cluster).
    stand_in = host.file("/usr/local/bin/onebox-test-kube-python")
    assert stand_in.exists and stand_in.mode == 0o755, "converge did not install the stand-in"
    calls = host.file("/var/log/onebox-test-kube-calls.log")
    assert not calls.exists, f"modules reached for the cluster: {calls.content_string}"
