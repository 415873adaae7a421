"""After a check-mode run of the microk8s role on a fresh host, nothing on it has changed.

The run itself completing (molecule's check step) is the other half of the test. On a fresh VM
there is no snap command until the role installs snapd, so in check mode the role must not run
`snap` at all: the stand-in at /usr/bin/snap records every call (see ../default/README.md).
"""

import pytest

LOG = "/var/log/onebox-standin/calls.log"


def test_no_snap_or_microk8s_command_ran(host):
    log = host.file(LOG)
    assert not log.exists or log.content_string == ""


def test_snapd_was_not_installed(host):
    assert not host.package("snapd").is_installed


@pytest.mark.parametrize(
    "path",
    [
        "/snap/bin/microk8s",
        "/var/snap/microk8s",
        "/home/opsadmin",
    ],
)
def test_nothing_was_written(host, path):
    assert not host.file(path).exists
