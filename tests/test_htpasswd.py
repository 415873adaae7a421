"""The ingress role's htpasswd filter: bcrypt lines that verify, stay the same for the same
credentials (no rehash, no change on every run) and differ when anything they depend on does."""

from __future__ import annotations

import sys

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from conftest import REPO

sys.path.insert(0, str(REPO / "roles/ingress/filter_plugins"))
from htpasswd import FilterModule, htpasswd_bcrypt  # noqa: E402


def test_line_verifies_with_bcrypt_and_only_with_the_password():
    line = htpasswd_bcrypt("s3cret/with:odd@chars", "admin", "onebox/reader.example.org")
    user, hashed = line.split(":", 1)
    assert user == "admin"
    # Apache's `htpasswd -B` prefix, which nginx and Traefik read.
    assert hashed.startswith("$2y$10$") and len(hashed) == 60
    assert bcrypt.checkpw(b"s3cret/with:odd@chars", hashed.encode())
    assert not bcrypt.checkpw(b"s3cret", hashed.encode())


def test_same_credentials_give_the_same_line():
    assert htpasswd_bcrypt("pw", "admin", "ctx") == htpasswd_bcrypt("pw", "admin", "ctx")


@pytest.mark.parametrize(
    "other", [("pw2", "admin", "ctx"), ("pw", "admin2", "ctx"), ("pw", "admin", "ctx2")]
)
def test_the_salt_depends_on_password_user_and_site(other):
    mine = htpasswd_bcrypt("pw", "admin", "ctx").split(":", 1)[1]
    theirs = htpasswd_bcrypt(*other).split(":", 1)[1]
    # bcrypt's salt is the 22 characters after "$2y$10$".
    assert mine[7:29] != theirs[7:29]


@pytest.mark.parametrize(
    ("password", "user", "rounds"),
    [("", "admin", 10), ("pw", "", 10), ("pw", "a:b", 10), ("pw", "a", 3)],
)
def test_bad_input_is_refused(password, user, rounds):
    with pytest.raises(AnsibleFilterError):
        htpasswd_bcrypt(password, user, rounds=rounds)


def test_the_filter_is_registered():
    assert FilterModule().filters()["htpasswd_bcrypt"] is htpasswd_bcrypt
