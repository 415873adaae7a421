"""The parts of backup.yml, restore.yml and rebuild.yml that run without a cluster: the role's
preflight, copying dumps to the controller with their checksums checked (fetch), and choosing
the dump to restore (choose_dump, which rebuild.yml runs before it builds anything).

This machine plays both the VM and the controller (tests/playbooks/backup_controller.yml).
The controller's copies are vault-encrypted with a throwaway vault password (VAULT_PASSWORD,
given through ANSIBLE_VAULT_PASSWORD_FILE as an operator would).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from conftest import REPO, run_playbook

BUDGET = {"onebox_memory": {"workloads": {"postgres": "512Mi", "backup": "128Mi"}}}
BUDGET_TOO_SMALL = {"onebox_memory": {"workloads": {"postgres": "512Mi", "backup": "16Mi"}}}
BAD_TABLES = {"backup_restore_regenerated_tables": ["auth_user; DROP"]}
NAMES = [f"onebox-2026112{day}T023000Z.dump" for day in (1, 2, 3)]
VAULT_PASSWORD = b"throwaway test vault password"
VAULT = VaultLib([("default", VaultSecret(VAULT_PASSWORD))])


@pytest.fixture(autouse=True)
def vault_password(tmp_path_factory, monkeypatch):
    """The operator's vault password, as ANSIBLE_VAULT_PASSWORD_FILE gives it to ansible."""
    path = tmp_path_factory.mktemp("vault") / "password"
    path.write_bytes(VAULT_PASSWORD + b"\n")
    path.chmod(0o600)
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(path))
    return path


def plain(path: Path) -> bytes:
    """A controller copy's content: decrypted if it is vault-encrypted (old copies may not be)."""
    data = path.read_bytes()
    return VAULT.decrypt(data) if VaultLib.is_encrypted(data) else data


def is_vaulted(path: Path) -> bool:
    return path.read_bytes().startswith(b"$ANSIBLE_VAULT;")


def preflight(**overrides):
    return run_playbook(
        REPO / "tests/playbooks/role_preflight.yml",
        "-i",
        "localhost,",
        extra_vars={"preflight_role": "backup", **BUDGET, **overrides},
    )


def entry(name: str, *args: str, **extra_vars):
    return run_playbook(
        REPO / "tests/playbooks/backup_controller.yml",
        "-i",
        "localhost,",
        *args,
        extra_vars={"backup_test_entry": name, **extra_vars},
    )


def write_dump(directory: Path, name: str, payload: bytes, *, vaulted: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(VAULT.encrypt(payload) if vaulted else payload)
    digest = hashlib.sha256(payload).hexdigest()
    (directory / f"{name}.sha256").write_text(f"{digest}  {name}\n")


# --- preflight ------------------------------------------------------------------------------------


def test_preflight_accepts_the_defaults():
    result = preflight()
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "named", "check"),
    [
        ({"backup_schedule": "every night"}, "backup_schedule", "backup_schedule is match"),
        ({"backup_time_zone": "Central European"}, "backup_time_zone", "backup_time_zone is"),
        ({"backup_keep": 0}, "backup_keep", "backup_keep | int >= 1"),
        ({"backup_host_dir": "var/backups"}, "backup_host_dir", "backup_host_dir is match"),
        ({"backup_host_dir": "/var"}, "backup_host_dir", "backup_host_dir not in"),
        ({"backup_postgres_image": "postgres:latest"}, "backup_postgres_image", "!= 'latest'"),
        (BUDGET_TOO_SMALL, "backup_memory_limit", "_backup_memory_floor_mib"),
        ({"backup_restore_dump": "../../etc/passwd"}, "backup_restore_dump", "backup_restore_dump"),
        (BAD_TABLES, "backup_restore_regenerated_tables", "backup_restore_regenerated_tables"),
        ({"backup_controller_dir": "backups"}, "backup_controller_dir", "backup_controller_dir"),
    ],
)
def test_preflight_rejects_bad_input(overrides, named, check):
    result = preflight(**overrides)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert named in output
    # The check that failed is the one about this input, not another one in the same task.
    failed = [line for line in output.splitlines() if line.strip().startswith("assertion:")]
    assert failed, output
    assert check in failed[0], failed[0]


# --- fetch: copies, checks, repairs -------------------------------------------------------------


def test_fetch_copies_new_dumps_and_checks_every_copy(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    for i, name in enumerate(NAMES):
        write_dump(vm, name, f"dump {i}".encode() * 1000)
    # The controller already has the oldest, intact, and a damaged copy of the middle one.
    host_dir = controller / "localhost"
    write_dump(host_dir, NAMES[0], b"dump 0" * 1000)
    write_dump(host_dir, NAMES[1], b"dump 1" * 1000)
    (host_dir / NAMES[1]).write_bytes(b"dump 1" * 500)  # truncated after its checksum was written

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode == 0, output
    assert "1 new dump(s) copied" in output
    assert "1 damaged copy here replaced by a good one from the VM" in output
    for name in NAMES:
        # Encrypted at rest, the old plain copy too (encrypted in place once verified).
        assert is_vaulted(host_dir / name), name
        assert plain(host_dir / name) == (vm / name).read_bytes()
        assert (host_dir / f"{name}.sha256").exists()
    assert not list((host_dir / ".incoming").iterdir()), "a plain staged copy was left behind"
    assert (controller / "localhost").stat().st_mode & 0o077 == 0


def test_fetch_fails_on_a_damaged_copy_the_vm_no_longer_has(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    write_dump(vm, NAMES[2], b"newest" * 1000)
    write_dump(controller / "localhost", NAMES[0], b"pruned on the VM" * 100)
    (controller / "localhost" / NAMES[0]).write_bytes(b"bit rot")

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode != 0, output
    assert f"{NAMES[0]} does not match" in output
    # Nothing to fetch again: the message must not send the operator to delete it.
    assert "The VM no longer has it" in output
    assert "delete the copy" not in output


def _damage(path: Path) -> None:
    """Flip a byte in the middle: the size stays, the checksum no longer matches."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_fetch_never_replaces_a_verified_copy(tmp_path):
    """Issue 14: the VM's copy went bad after the controller had verified its own; the fetch
    overwrote the only good copy with it, then said to delete the copy and fetch again."""
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    write_dump(vm, NAMES[0], b"good dump" * 1000)
    write_dump(host_dir, NAMES[0], b"good dump" * 1000, vaulted=True)
    _damage(vm / NAMES[0])
    mine = (host_dir / NAMES[0]).read_bytes()
    before = os.stat(host_dir / NAMES[0]).st_mtime_ns

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert (host_dir / NAMES[0]).read_bytes() == mine, "the good copy was replaced"
    assert plain(host_dir / NAMES[0]) == b"good dump" * 1000
    assert os.stat(host_dir / NAMES[0]).st_mtime_ns == before
    assert result.returncode == 0, output
    assert "0 new dump(s) copied" in output
    assert "delete" not in output


def test_fetch_keeps_a_damaged_vm_copy_aside_and_says_so(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    write_dump(vm, NAMES[0], b"fine" * 1000)
    write_dump(vm, NAMES[1], b"rotten on the VM" * 1000)
    _damage(vm / NAMES[1])

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode != 0, output
    assert f"The VM's copy of {NAMES[1]} does not match its .sha256" in output
    assert "there is no good copy of it" in output
    # The good one is in place; the damaged one is kept, under a name restore never takes.
    assert is_vaulted(host_dir / NAMES[0])
    assert plain(host_dir / NAMES[0]) == b"fine" * 1000
    assert not (host_dir / NAMES[1]).exists()
    (aside,) = host_dir.glob(f"{NAMES[1]}.damaged-from-vm-*Z")
    assert is_vaulted(aside), "a damaged copy holds the same secrets"
    assert plain(aside) == (vm / NAMES[1]).read_bytes()
    assert str(aside) in output
    assert not list((host_dir / ".incoming").iterdir()), "staged files were left behind"


def test_fetch_replaces_a_damaged_copy_and_keeps_the_old_one_aside(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    write_dump(vm, NAMES[1], b"dump 1" * 1000)
    write_dump(host_dir, NAMES[1], b"dump 1" * 1000)
    _damage(host_dir / NAMES[1])
    damaged = (host_dir / NAMES[1]).read_bytes()

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode == 0, output
    assert is_vaulted(host_dir / NAMES[1])
    assert plain(host_dir / NAMES[1]) == b"dump 1" * 1000
    (aside,) = host_dir.glob(f"{NAMES[1]}.damaged-*Z")
    assert is_vaulted(aside)
    assert plain(aside) == damaged
    assert "1 damaged copy here replaced" in output


def test_fetch_with_both_copies_damaged_keeps_both_and_says_no_good_copy_exists(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    write_dump(vm, NAMES[1], b"dump 1" * 1000)
    write_dump(host_dir, NAMES[1], b"dump 1" * 1000)
    _damage(vm / NAMES[1])
    (host_dir / NAMES[1]).write_bytes(b"dump 1" * 10)
    mine = (host_dir / NAMES[1]).read_bytes()

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode != 0, output
    assert (host_dir / NAMES[1]).read_bytes() == mine, "one damaged copy replaced another"
    assert len(list(host_dir.glob(f"{NAMES[1]}.damaged-from-vm-*Z"))) == 1
    assert "The VM's copy is damaged too" in output
    assert "delete the copy" not in output


def test_fetch_in_check_mode_writes_nothing_and_says_what_it_would_copy(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    write_dump(vm, NAMES[0], b"dump 0" * 1000)
    write_dump(controller / "localhost", NAMES[1], b"dump 1" * 1000)
    before = sorted(p.name for p in (controller / "localhost").iterdir())

    result = entry(
        "fetch", "--check", backup_host_dir=str(vm), backup_controller_dir=str(controller)
    )

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    assert "1 new dump(s) would be copied" in output
    assert sorted(p.name for p in (controller / "localhost").iterdir()) == before


def test_controller_copies_are_owner_only(tmp_path):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    for i, name in enumerate(NAMES):
        write_dump(vm, name, f"dump {i}".encode() * 1000)
    # A copy an older version left readable by everyone (0644).
    write_dump(host_dir, NAMES[0], b"dump 0" * 1000)
    for path in host_dir.iterdir():
        path.chmod(0o644)
    host_dir.chmod(0o755)

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    assert result.returncode == 0, result.stdout + result.stderr
    assert host_dir.stat().st_mode & 0o777 == 0o700
    modes = {p.name: p.stat().st_mode & 0o777 for p in host_dir.iterdir() if p.is_file()}
    assert len(modes) == 2 * len(NAMES)
    assert set(modes.values()) == {0o600}, modes


# --- choose_dump: what restore.yml and rebuild.yml restore -----------------------------------


def test_choose_dump_takes_the_newest(tmp_path):
    for name in NAMES:
        write_dump(tmp_path / "localhost", name, name.encode() * 100)
    result = entry("choose_dump", backup_controller_dir=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"restoring {tmp_path}/localhost/{NAMES[-1]}" in result.stdout


def test_choose_dump_takes_the_named_one(tmp_path):
    for name in NAMES:
        write_dump(tmp_path / "localhost", name, name.encode() * 100)
    result = entry("choose_dump", backup_controller_dir=str(tmp_path), backup_restore_dump=NAMES[0])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"restoring {tmp_path}/localhost/{NAMES[0]}" in result.stdout


def test_choose_dump_stops_without_a_dump(tmp_path):
    result = entry("choose_dump", backup_controller_dir=str(tmp_path))
    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode != 0
    assert "There is no dump for localhost" in output
    assert "playbooks/backup.yml" in output


def test_choose_dump_refuses_a_damaged_dump(tmp_path):
    for name in NAMES:
        write_dump(tmp_path / "localhost", name, name.encode() * 100)
    with (tmp_path / "localhost" / NAMES[-1]).open("r+b") as f:
        f.truncate(10)
    result = entry("choose_dump", backup_controller_dir=str(tmp_path))
    output = " ".join((result.stdout + result.stderr).split())  # messages wrap
    assert result.returncode != 0
    assert f"{NAMES[-1]} does not match" in output


def test_choose_dump_checks_a_dump_given_by_path(tmp_path):
    elsewhere = tmp_path / "usb-stick"
    write_dump(elsewhere, NAMES[1], b"kept elsewhere" * 100)
    good = entry(
        "choose_dump",
        backup_controller_dir=str(tmp_path / "empty"),
        backup_restore_dump=str(elsewhere / NAMES[1]),
    )
    assert good.returncode == 0, good.stdout + good.stderr
    (elsewhere / f"{NAMES[1]}.sha256").unlink()
    bad = entry(
        "choose_dump",
        backup_controller_dir=str(tmp_path / "empty"),
        backup_restore_dump=str(elsewhere / NAMES[1]),
    )
    assert bad.returncode != 0
    assert "checksum file is missing" in bad.stdout + bad.stderr


# --- the vault: copies encrypted at rest --------------------------------------------------------


def test_fetch_without_a_vault_password_stops_before_copying_anything(tmp_path, monkeypatch):
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE")
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    write_dump(vm, NAMES[0], b"dump 0" * 1000)

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "ANSIBLE_VAULT_PASSWORD_FILE" in output
    assert "--vault-password-file" in output
    assert "vault_password_file" in output
    assert not controller.exists(), "something was written before the vault check"


def test_fetch_with_a_wrong_vault_password_fails_and_keeps_the_copy(tmp_path, monkeypatch):
    vm, controller = tmp_path / "vm", tmp_path / "controller"
    host_dir = controller / "localhost"
    write_dump(vm, NAMES[0], b"dump 0" * 1000)
    write_dump(host_dir, NAMES[0], b"dump 0" * 1000, vaulted=True)
    mine = (host_dir / NAMES[0]).read_bytes()
    wrong = tmp_path / "wrong"
    wrong.write_text("not the password\n")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(wrong))

    result = entry("fetch", backup_host_dir=str(vm), backup_controller_dir=str(controller))

    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert "cannot be decrypted with the vault password" in output
    assert (host_dir / NAMES[0]).read_bytes() == mine


def test_choose_dump_verifies_an_encrypted_copy_on_its_decrypted_content(tmp_path):
    host_dir = tmp_path / "localhost"
    for name in NAMES:
        write_dump(host_dir, name, name.encode() * 100, vaulted=True)
    good = entry("choose_dump", backup_controller_dir=str(tmp_path))
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"restoring {host_dir}/{NAMES[-1]}" in good.stdout

    # Damaged inside the encryption: the vault file decrypts, the content does not match.
    (host_dir / NAMES[-1]).write_bytes(VAULT.encrypt(NAMES[-1].encode() * 99))
    bad = entry("choose_dump", backup_controller_dir=str(tmp_path))
    assert bad.returncode != 0
    assert f"{NAMES[-1]} does not match" in " ".join((bad.stdout + bad.stderr).split())


def test_restore_copies_an_encrypted_dump_to_the_vm_decrypted_and_checked(tmp_path):
    """restore.yml's copy (tasks/copy_dump.yml): copy decrypts the controller's vault file on
    the way; the VM's file is the plain dump and matches its .sha256."""
    controller, vm = tmp_path / "controller", tmp_path / "vm"
    payload = b"encrypted at rest" * 1000
    write_dump(controller / "localhost", NAMES[0], payload, vaulted=True)
    vm.mkdir()

    result = entry("copy_dump", backup_controller_dir=str(controller), backup_host_dir=str(vm))

    assert result.returncode == 0, result.stdout + result.stderr
    assert (vm / NAMES[0]).read_bytes() == payload
    assert (vm / f"{NAMES[0]}.sha256").exists()
    assert (vm / NAMES[0]).stat().st_mode & 0o777 == 0o600
    assert not list(controller.rglob(".vault-*")), "a temporary file was left on the controller"
