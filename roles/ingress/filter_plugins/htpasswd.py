"""htpasswd lines for the ingress's basic auth, hashed with bcrypt on the controller.

The salt is derived from the user and the password (HMAC-SHA256), so the same credentials
always give the same line: the Secret only changes when the credentials do, and a second run
reports no change. A salt that depends on the password is no weakness here: the salt's job is
to make equal passwords hash differently across users and sites, and the user name and a
site-specific key (the namespace and host) go into it too.
"""

from __future__ import annotations

import hashlib
import hmac

from ansible.errors import AnsibleFilterError

# bcrypt's own base64 alphabet.
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _bcrypt_b64(data: bytes) -> str:
    """Encode bytes the way bcrypt encodes its salt (no padding)."""
    out = []
    bits = 0
    count = 0
    for byte in data:
        bits = (bits << 8) | byte
        count += 8
        while count >= 6:
            count -= 6
            out.append(_BCRYPT_ALPHABET[(bits >> count) & 0x3F])
    if count:
        out.append(_BCRYPT_ALPHABET[(bits << (6 - count)) & 0x3F])
    return "".join(out)


def htpasswd_bcrypt(password: str, user: str, context: str = "", rounds: int = 10) -> str:
    """Return 'user:$2y$...' with a salt derived from user, password and context."""
    try:
        import bcrypt
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise AnsibleFilterError(
            "htpasswd_bcrypt needs the Python package bcrypt on the controller "
            "(pip install -r requirements.txt)"
        ) from exc
    if not user or ":" in user:
        raise AnsibleFilterError("htpasswd_bcrypt: the user must be non-empty and hold no ':'")
    if not password:
        raise AnsibleFilterError("htpasswd_bcrypt: the password is empty")
    if not 4 <= int(rounds) <= 31:
        raise AnsibleFilterError("htpasswd_bcrypt: rounds must be from 4 to 31")
    digest = hmac.new(
        password.encode(), f"onebox-htpasswd\0{user}\0{context}".encode(), hashlib.sha256
    ).digest()
    # 16 bytes of salt make 22 characters, the last one carrying 2 bits as bcrypt expects.
    salt = f"$2b${int(rounds):02d}${_bcrypt_b64(digest[:16])}".encode()
    hashed = bcrypt.hashpw(password.encode(), salt).decode()
    # $2y$ is what Apache's `htpasswd -B` writes; nginx and Traefik read it (same algorithm).
    return f"{user}:$2y${hashed[4:]}"


class FilterModule:
    def filters(self):
        return {"htpasswd_bcrypt": htpasswd_bcrypt}
