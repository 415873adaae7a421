"""offsite's preflight refuses bad input before any change, naming the variable: repository
strings restic would not take (or that would not be off the VM), a missing password or
credentials, retention that forgets everything, schedules and restore settings.

Every case is a host of one generated inventory (its variables are the inputs), so a single
ansible-playbook run on the controller checks them all.
"""

from __future__ import annotations

import pytest
from conftest import REPO, case_outcomes

KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
SFTP = {
    "offsite_repository": "sftp:onebox@backup.example.net:/srv/restic/onebox",
    "offsite_password": "repository-password",
    "offsite_sftp_private_key": KEY,
    "offsite_sftp_known_hosts": "backup.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF",
}
S3_ENV = {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}
B2_ENV = {"B2_ACCOUNT_ID": "id", "B2_ACCOUNT_KEY": "key"}


def repo(repository: str, **more) -> dict:
    return {"offsite_repository": repository, "offsite_password": "pw", **more}


GOOD = {
    "off": {},
    "sftp": SFTP,
    "sftp-url-with-port": {
        **SFTP,
        "offsite_repository": "sftp://onebox@198.51.100.20:2222//srv/restic/onebox",
    },
    "s3-any-endpoint": repo(
        "s3:https://s3.eu-central-1.example.com/bucket/onebox", offsite_backend_env=S3_ENV
    ),
    "s3-host-only": repo("s3:s3.amazonaws.com/bucket", offsite_backend_env=S3_ENV),
    "b2": repo("b2:bucket:onebox", offsite_backend_env=B2_ENV),
    "rest": repo("rest:https://backup.example.net:8000/onebox/"),
    "local-disk": repo("/mnt/offsite/onebox"),
    "named-snapshot": {"offsite_restore_snapshot": "9c1e88e8"},
}

# name -> (host variables, the variable the message must name)
BAD: dict[str, tuple[dict, str]] = {
    "repo-unknown-scheme": (repo("gs:bucket:/onebox"), "offsite_repository"),
    "repo-ftp": (repo("ftp://backup.example.net/onebox"), "offsite_repository"),
    "repo-relative-path": (repo("restic/onebox"), "offsite_repository"),
    "repo-space": ({**SFTP, "offsite_repository": "sftp:u@h:/srv/my repo"}, "offsite_repository"),
    "repo-sftp-no-path": ({**SFTP, "offsite_repository": "sftp:u@host"}, "offsite_repository"),
    "repo-s3-no-bucket": (
        repo("s3:https://s3.example.com", offsite_backend_env=S3_ENV),
        "offsite_repository",
    ),
    "repo-rest-no-scheme": (repo("rest:backup.example.net/onebox"), "offsite_repository"),
    "repo-b2-no-bucket": (repo("b2:", offsite_backend_env=B2_ENV), "offsite_repository"),
    "repo-not-a-string": (repo(["sftp:u@h:/r"]), "offsite_repository"),
    "repo-local-in-backup-dir": (repo("/var/backups/onebox/restic"), "offsite_repository"),
    "repo-local-around-backup-dir": (repo("/var/backups"), "offsite_repository"),
    "repo-local-system-dir": (repo("/etc"), "offsite_repository"),
    "repo-local-dotdot": (repo("/mnt/../etc/restic"), "offsite_repository"),
    "password-missing": ({**SFTP, "offsite_password": ""}, "offsite_password"),
    "password-blank": ({**SFTP, "offsite_password": "  "}, "offsite_password"),
    "password-null": ({**SFTP, "offsite_password": None}, "offsite_password"),
    "s3-no-credentials": (
        repo("s3:https://s3.example.com/bucket"),
        "vault_offsite_aws_access_key_id",
    ),
    "s3-blank-secret": (
        repo(
            "s3:https://s3.example.com/bucket",
            offsite_backend_env={"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": ""},
        ),
        "AWS_SECRET_ACCESS_KEY",
    ),
    "b2-no-key": (
        repo("b2:bucket:onebox", offsite_backend_env={"B2_ACCOUNT_ID": "id"}),
        "vault_offsite_b2_account_key",
    ),
    "sftp-no-key": ({**SFTP, "offsite_sftp_private_key": ""}, "offsite_sftp_private_key"),
    "sftp-public-key-given": (
        {**SFTP, "offsite_sftp_private_key": "ssh-ed25519 AAAAC3Nza me@laptop"},
        "offsite_sftp_private_key",
    ),
    "sftp-no-known-hosts": ({**SFTP, "offsite_sftp_known_hosts": ""}, "offsite_sftp_known_hosts"),
    "keep-all-zero": (
        {"offsite_keep_daily": 0, "offsite_keep_weekly": 0, "offsite_keep_monthly": 0},
        "offsite_keep_daily",
    ),
    "keep-negative": ({"offsite_keep_weekly": -1}, "offsite_keep_weekly"),
    "keep-word": ({"offsite_keep_monthly": "six"}, "offsite_keep_monthly"),
    "check-percent-zero": (
        {"offsite_check_read_data_percent": 0},
        "offsite_check_read_data_percent",
    ),
    "check-percent-over": (
        {"offsite_check_read_data_percent": 101},
        "offsite_check_read_data_percent",
    ),
    "calendar-two-lines": (
        {"offsite_on_calendar": "03:30\nExecStart=/bin/sh"},
        "offsite_on_calendar",
    ),
    "calendar-empty": ({"offsite_check_on_calendar": ""}, "offsite_check_on_calendar"),
    "source-relative": ({"offsite_source_dir": "backups"}, "offsite_source_dir"),
    "snapshot-word": ({"offsite_restore_snapshot": "newest"}, "offsite_restore_snapshot"),
    "restore-dir-in-backup-dir": (
        {"offsite_restore_dir": "/var/backups/onebox/restored"},
        "offsite_restore_dir",
    ),
    "restore-dir-is-backup-dir": (
        {"offsite_restore_dir": "/var/backups/onebox"},
        "offsite_restore_dir",
    ),
}


@pytest.fixture(scope="session")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    """One preflight run; for each case: failed or not, and every message it printed."""
    cases = {**GOOD, **{name: overrides for name, (overrides, _) in BAD.items()}}
    return case_outcomes(
        REPO / "tests/playbooks/offsite_preflight_cases.yml",
        {"all": {"hosts": cases}},
        tmp_path_factory.mktemp("offsite"),
    )


@pytest.mark.parametrize("case", GOOD)
def test_good_input_passes(outcomes, case):
    outcome = outcomes[case]
    assert not outcome["failed"], outcome
    assert "preflight passed" in outcome["messages"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_naming_the_variable(outcomes, case):
    outcome = outcomes[case]
    _, named = BAD[case]
    assert outcome["failed"], outcome
    assert named in " ".join(outcome["messages"]), outcome["messages"]
    assert "preflight passed" not in outcome["messages"]


def test_a_bad_repository_names_the_shared_fact_too(outcomes):
    """The operator sets onebox_offsite_repository, not the role input: say both."""
    message = " ".join(outcomes["repo-ftp"]["messages"])
    assert "onebox_offsite.repository" in message
    assert "ftp://backup.example.net/onebox" in message


def test_a_missing_password_says_where_to_set_it(outcomes):
    message = " ".join(outcomes["password-missing"]["messages"])
    assert "vault_offsite_password" in message
