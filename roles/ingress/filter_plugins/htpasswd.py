"""htpasswd lines for the ingress's basic auth, hashed with bcrypt on the controller.

Each new hash gets a random salt (bcrypt.gensalt). A salt derived from the password would be
stored in the hash for anyone holding the Secret to read, and would let them test a guess
with a cheap HMAC before paying for bcrypt. So that a second run changes nothing, the role
hands in the line it rendered last time: while that line is for the same user and still
verifies against the password, it is returned unchanged; otherwise a new one is made.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _bcrypt():
    try:
        import bcrypt
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise AnsibleFilterError(
            "htpasswd_bcrypt needs the Python package bcrypt on the controller "
            "(pip install -r requirements.txt)"
        ) from exc
    return bcrypt


def _still_valid(existing: str | None, password: str, user: str) -> bool:
    """True when `existing` is user's bcrypt line and verifies against password."""
    if not existing:
        return False
    name, _, hashed = str(existing).strip().partition(":")
    if name != user or not hashed.startswith(("$2y$", "$2b$", "$2a$")) or len(hashed) != 60:
        return False
    try:
        # The bcrypt package reads $2b$; $2y$ is the same algorithm under Apache's name.
        return _bcrypt().checkpw(password.encode(), ("$2b$" + hashed[4:]).encode())
    except ValueError:  # a malformed salt or hash
        return False


def htpasswd_bcrypt(password: str, user: str, existing: str | None = None, rounds: int = 10) -> str:
    """Return 'user:$2y$...': `existing` when it still verifies, else a new random-salt hash."""
    if not user or ":" in user:
        raise AnsibleFilterError("htpasswd_bcrypt: the user must be non-empty and hold no ':'")
    if not password:
        raise AnsibleFilterError("htpasswd_bcrypt: the password is empty")
    if not 4 <= int(rounds) <= 31:
        raise AnsibleFilterError("htpasswd_bcrypt: rounds must be from 4 to 31")
    password = str(password)
    if len(password.encode()) > 72:
        # bcrypt reads only the first 72 bytes (bcrypt 5 refuses more): a longer password
        # would be accepted from its first 72 bytes alone.
        raise AnsibleFilterError(
            "htpasswd_bcrypt: the password is longer than bcrypt's 72 bytes: make "
            "ingress_basic_auth_password (vault_ingress_basic_auth_password) at most 72 bytes"
        )
    if _still_valid(existing, password, user):
        return str(existing).strip()
    hashed = _bcrypt().hashpw(password.encode(), _bcrypt().gensalt(int(rounds))).decode()
    # $2y$ is what Apache's `htpasswd -B` writes; nginx and Traefik read it (same algorithm).
    return f"{user}:$2y${hashed[4:]}"


class FilterModule:
    def filters(self):
        return {"htpasswd_bcrypt": htpasswd_bcrypt}
