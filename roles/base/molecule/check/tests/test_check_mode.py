"""After a check-mode run of the base role on a fresh container, nothing on it has changed.

The run itself completing (molecule's converge step) is the other half of the test: before
the fix it stopped at the admin's key task for a user that did not exist yet.
"""

import pytest


def test_the_admin_account_was_not_made(host):
    assert not host.user("opsadmin").exists


@pytest.mark.parametrize("package", ["ufw", "unattended-upgrades", "systemd-timesyncd", "jq"])
def test_no_package_was_installed(host, package):
    assert not host.package(package).is_installed


@pytest.mark.parametrize(
    "path",
    [
        "/etc/ssh/sshd_config.d/10-onebox.conf",
        "/etc/sudoers.d/10-onebox-admin",
        "/etc/systemd/journald.conf.d",
        "/etc/systemd/timesyncd.conf.d",
        "/etc/apt/apt.conf.d/52onebox-unattended-upgrades",
    ],
)
def test_no_file_was_written(host, path):
    assert not host.file(path).exists
