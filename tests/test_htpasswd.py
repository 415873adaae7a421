"""The ingress role's htpasswd filter: bcrypt lines that verify, with a random salt (a salt made
from the password would let a guess be checked without bcrypt's cost), and the same line kept
while it still verifies against the password, so a second run changes nothing."""

from __future__ import annotations

import base64
import sys

import bcrypt
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from conftest import REPO, run_playbook

sys.path.insert(0, str(REPO / "roles/ingress/filter_plugins"))
from htpasswd import FilterModule, htpasswd_bcrypt  # noqa: E402


def salt(line: str) -> str:
    # bcrypt's salt is the 22 characters after "$2y$10$".
    return line.split(":", 1)[1][7:29]


def test_line_verifies_with_bcrypt_and_only_with_the_password():
    line = htpasswd_bcrypt("s3cret/with:odd@chars", "admin")
    user, hashed = line.split(":", 1)
    assert user == "admin"
    # Apache's `htpasswd -B` prefix, which nginx and Traefik read.
    assert hashed.startswith("$2y$10$") and len(hashed) == 60
    assert bcrypt.checkpw(b"s3cret/with:odd@chars", hashed.encode())
    assert not bcrypt.checkpw(b"s3cret", hashed.encode())


def test_the_salt_is_random_not_made_from_the_password():
    lines = {htpasswd_bcrypt("pw", "admin") for _ in range(5)}
    assert len({salt(line) for line in lines}) == 5
    assert all(bcrypt.checkpw(b"pw", line.split(":", 1)[1].encode()) for line in lines)


def test_the_existing_line_is_kept_while_it_verifies():
    current = htpasswd_bcrypt("pw", "admin")
    assert htpasswd_bcrypt("pw", "admin", current) == current
    # As read back from the Secret or the rendered file: with its newline.
    assert htpasswd_bcrypt("pw", "admin", current + "\n") == current


@pytest.mark.parametrize(
    "existing",
    [
        "other password",
        "other user",
        "admin:not-a-hash",
        "",
        None,
        "admin:$2y$10$" + "." * 53,
    ],
)
def test_a_new_line_when_the_existing_one_does_not_fit(existing):
    if existing == "other password":
        existing = htpasswd_bcrypt("old-pw", "admin")
    elif existing == "other user":
        existing = htpasswd_bcrypt("pw", "someone")
    line = htpasswd_bcrypt("pw", "admin", existing)
    assert line != existing
    assert line.startswith("admin:$2y$10$")
    assert bcrypt.checkpw(b"pw", line.split(":", 1)[1].encode())


@pytest.mark.parametrize(
    ("password", "user", "rounds"),
    [("", "admin", 10), ("pw", "", 10), ("pw", "a:b", 10), ("pw", "a", 3), ("é" * 37, "a", 10)],
    ids=["no-password", "no-user", "colon-in-user", "rounds-3", "74-bytes"],
)
def test_bad_input_is_refused(password, user, rounds):
    # The last: 74 bytes, more than bcrypt reads (bcrypt 5 raises a bare ValueError).
    with pytest.raises(AnsibleFilterError):
        htpasswd_bcrypt(password, user, rounds=rounds)


def test_the_filter_is_registered():
    assert FilterModule().filters()["htpasswd_bcrypt"] is htpasswd_bcrypt


# --- the ingress role: the same Secret on a second run, a new one for a new password ----------


def render(manifest_dir, password, *args):
    return run_playbook(
        REPO / "tests/playbooks/ingress_basic_auth.yml",
        "-i",
        "localhost,",
        *args,
        extra_vars={
            "ingress_manifest_dir": str(manifest_dir),
            "ingress_basic_auth_password": password,
        },
    )


def users_line(manifest_dir) -> str:
    secret = yaml.safe_load((manifest_dir / "basic-auth-secret.yaml").read_text())
    users = base64.b64decode(secret["data"]["users"]).decode()
    assert base64.b64decode(secret["data"]["auth"]).decode() == users
    return users.rstrip("\n")


def test_the_role_keeps_the_hash_and_changes_it_with_the_password(tmp_path):
    first = render(tmp_path, "first-password")
    assert first.returncode == 0, first.stdout + first.stderr
    line = users_line(tmp_path)
    assert bcrypt.checkpw(b"first-password", line.split(":", 1)[1].encode())
    assert "first-password" not in first.stdout + first.stderr

    again = render(tmp_path, "first-password")
    assert again.returncode == 0, again.stdout + again.stderr
    assert users_line(tmp_path) == line, "a second run rehashed the same password"
    assert "changed=0" in again.stdout

    # Check mode: the plan for a new password shows a change and writes nothing.
    check = render(tmp_path, "second-password", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "changed=1" in check.stdout
    assert users_line(tmp_path) == line

    changed = render(tmp_path, "second-password")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    new = users_line(tmp_path)
    assert bcrypt.checkpw(b"second-password", new.split(":", 1)[1].encode())
    assert "second-password" not in changed.stdout + changed.stderr
