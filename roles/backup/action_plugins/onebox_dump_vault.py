"""Vault-encrypt dumps on the controller and checksum their decrypted content.

Runs on the controller only (an action plugin never reaches the host). It uses the vault
password ansible-playbook already holds (--ask-vault-pass, --vault-password-file,
ANSIBLE_VAULT_PASSWORD_FILE, vault_password_file in ansible.cfg): the one the inventory's
vault.yml is encrypted with, so the operator keeps a single secret. A subprocess such as
`ansible-vault encrypt` would not see a password typed at --ask-vault-pass.

state:
  check      fail, naming the settings, when no vault password is configured;
  checksum   return sha256 (of the decrypted content) and encrypted (bool) of path;
  encrypted  make path vault-encrypted in place: the plain content must match sha256 when given,
             the encrypted file is written beside it (0600), decrypted back and compared, then
             renamed over it, so a verified copy is never lost half-way. Already encrypted: ok.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.parsing.vault import VaultLib, match_encrypt_secret
from ansible.plugins.action import ActionBase

NO_PASSWORD = (
    "No vault password is configured: the controller's copies of the dumps are encrypted with the "
    "vault password of the inventory's vault.yml. Set ANSIBLE_VAULT_PASSWORD_FILE, pass "
    "--vault-password-file (or --ask-vault-pass), or set vault_password_file in ansible.cfg."
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("path", "state", "sha256"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        state = args.get("state", "checksum")
        vault: VaultLib = self._loader._vault  # the loader's vault holds the run's secrets
        if not vault.secrets:
            return {**result, "failed": True, "msg": NO_PASSWORD}
        if state == "check":
            return {**result, "changed": False}
        path = args.get("path")
        if not path:
            return {**result, "failed": True, "msg": "path is required"}
        try:
            with open(path, "rb") as f:
                data = f.read()
            encrypted = VaultLib.is_encrypted(data)
            content = self._decrypt(vault, path, data) if encrypted else data
        except (OSError, AnsibleError) as e:
            return {**result, "failed": True, "msg": str(e)}
        digest = hashlib.sha256(content).hexdigest()
        result.update(sha256=digest, encrypted=encrypted, changed=False)
        if state == "checksum" or encrypted:
            return result
        if state != "encrypted":
            return {**result, "failed": True, "msg": f"unknown state {state!r}"}
        expected = args.get("sha256")
        if expected and expected != digest:
            return {
                **result,
                "failed": True,
                "msg": (
                    f"{path} does not match its checksum ({digest}, expected {expected}): "
                    "not encrypting it"
                ),
            }
        result["changed"] = True
        if self._task.check_mode:
            return result
        try:
            self._encrypt_in_place(vault, path, content)
        except (OSError, AnsibleError) as e:
            msg = f"encrypting {path} failed, it is left as it was: {e}"
            return {**result, "failed": True, "msg": msg}
        result["encrypted"] = True
        return result

    @staticmethod
    def _decrypt(vault: VaultLib, path: str, data: bytes) -> bytes:
        try:
            return vault.decrypt(data)
        except AnsibleError as e:
            raise AnsibleError(
                f"{path} cannot be decrypted with the vault password given ({e}). It was encrypted "
                "with the vault password in use when it was fetched: run with that one."
            ) from None

    @staticmethod
    def _encrypt_in_place(vault: VaultLib, path: str, content: bytes) -> None:
        vault_id, secret = match_encrypt_secret(vault.secrets, C.DEFAULT_VAULT_ENCRYPT_IDENTITY)
        b_vaulttext = vault.encrypt(content, secret, vault_id=vault_id)
        directory = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".vault-", dir=directory)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b_vaulttext)
                f.flush()
                os.fsync(f.fileno())
            with open(tmp, "rb") as f:
                if vault.decrypt(f.read()) != content:
                    raise AnsibleError("the encrypted copy does not decrypt to the dump")
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
