"""Verify the off-site round trip: vm's dumps went to the SFTP target encrypted, fresh got them
back with nothing of vm's, the data is equal; and every failure is loud and harmless."""

import json
import os

import pytest
import testinfra

VM = "onebox-offsite-vm"
TARGET = "onebox-offsite-target"
FRESH = "onebox-offsite-fresh"
DUMPS = "/var/backups/onebox"
RESTORED = "/var/backups/onebox-offsite-restore"
REPO_DIR = "/srv/restic/repos/onebox"
ENV = "/etc/onebox/offsite/env"
SCRIPT = "/usr/local/sbin/onebox-offsite"


def get(name: str):
    return testinfra.get_host(
        f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"]
    )


@pytest.fixture(scope="module")
def vm():
    return get(VM)


@pytest.fixture(scope="module")
def target():
    return get(TARGET)


@pytest.fixture(scope="module")
def fresh():
    return get(FRESH)


def fingerprint(host) -> str:
    """Every file of the backup directory: name, size, mtime, inode, mode and content."""
    listing = host.check_output(
        f"cd {DUMPS} && find . -type f -printf '%P %s %T@ %i %m\\n' | sort"
        " && find . -type f -print0 | sort -z | xargs -0 sha256sum"
    )
    return listing


@pytest.fixture(scope="module")
def dumps_before(vm):
    return fingerprint(vm)


def dump_names(host, directory: str) -> list[str]:
    return sorted(host.check_output(f"ls {directory}").split())


def run_with(host, env_changes: dict[str, str], command: str):
    """onebox-offsite COMMAND with a copy of the env file where env_changes are replaced."""
    edits = " ".join(f"-e 's|^{name}=.*|{name}={value}|'" for name, value in env_changes.items())
    host.check_output(f"sed {edits} {ENV} > /root/test.env && chmod 600 /root/test.env")
    return host.run(f"{SCRIPT} --env /root/test.env {command}")


def test_settings_are_root_only(vm, dumps_before):
    directory = vm.file("/etc/onebox/offsite")
    assert (directory.mode, directory.user) == (0o700, "root")
    for name, mode in [("env", 0o600), ("id_sftp", 0o600)]:
        assert vm.file(f"/etc/onebox/offsite/{name}").mode == mode, name
    env = vm.file(ENV).content_string
    assert "RESTIC_PASSWORD=molecule-repository-password" in env
    assert "RESTIC_REPOSITORY=sftp:restic@" in env
    # Another user cannot read the password, nor run the script's commands.
    denied = vm.run("runuser -u nobody -- cat %s", ENV)
    assert denied.rc != 0 and "Permission denied" in denied.stderr


def test_the_repository_is_encrypted_on_the_target(vm, target):
    """A dump's bytes are not in the repository: restic encrypted them."""
    assert target.file(f"{REPO_DIR}/config").exists
    dump = dump_names(vm, DUMPS)[0]
    chunk = vm.check_output(
        f"python3 -c \"import sys; d=open('{DUMPS}/{dump}','rb').read(); "
        f'print(d[len(d)//2:len(d)//2+48].hex())"'
    )
    found = target.check_output(
        f"python3 -c \"import pathlib; c=bytes.fromhex('{chunk}'); "
        f"files=[p for p in pathlib.Path('{REPO_DIR}').rglob('*') if p.is_file()]; "
        f'print(sum(c in p.read_bytes() for p in files))"'
    )
    assert found == "0"
    # The same search finds the chunk where it is plain: the dump itself.
    assert (
        vm.check_output(
            f"python3 -c \"print(bytes.fromhex('{chunk}') in open('{DUMPS}/{dump}','rb').read())\""
        )
        == "True"
    )


def test_help_documents_the_exit_codes(vm):
    text = vm.check_output(f"{SCRIPT} --help")
    for line in ["backup", "check", "latest", "restore [SNAPSHOT] DIR", "4 the repository refuses"]:
        assert line in text


def test_timers_are_enabled_with_their_schedules(vm):
    for timer, calendar in [
        ("onebox-offsite.timer", "*-*-* 03:45:00"),
        ("onebox-offsite-check.timer", "Sun *-*-* 04:30:00"),
    ]:
        assert vm.service(timer).is_enabled, timer
        assert vm.service(timer).is_running, timer
        shown = vm.check_output(f"systemctl show -p TimersCalendar {timer}")
        assert f"OnCalendar={calendar} ;" in shown, shown


def test_the_nightly_service_succeeded(vm):
    shown = vm.check_output("systemctl show -p Result -p ExecMainStatus onebox-offsite.service")
    assert "Result=success" in shown and "ExecMainStatus=0" in shown, shown


def test_latest_names_every_verified_dump(vm):
    latest = json.loads(vm.check_output(f"{SCRIPT} latest"))
    assert set(latest) == {"id", "time", "files"}
    assert sorted(latest["files"]) == dump_names(vm, DUMPS)
    assert len(latest["files"]) == 4  # two dumps and their .sha256


def test_fresh_vm_got_the_same_files(vm, fresh):
    names = dump_names(vm, DUMPS)
    assert dump_names(fresh, RESTORED) == names
    for name in names:
        assert vm.file(f"{DUMPS}/{name}").sha256sum == fresh.file(f"{RESTORED}/{name}").sha256sum
    # The restore entry point chose the newest dump.
    assert fresh.file("/root/restored-dump").content_string.strip() == f"{RESTORED}/{names[-2]}"


def test_row_counts_are_equal_after_pg_restore(vm, fresh):
    query = "SELECT (SELECT count(*) FROM account) || ' ' || (SELECT count(*) FROM word)"
    counts = [
        host.check_output(f'su postgres -c "psql -At -d onebox -c \\"{query}\\""')
        for host in (vm, fresh)
    ]
    assert counts[0] == counts[1] == "2017 300000"
    digest = "SELECT md5(string_agg(text, ',' ORDER BY id)) FROM word"
    sums = [
        host.check_output(f'su postgres -c "psql -At -d onebox -c \\"{digest}\\""')
        for host in (vm, fresh)
    ]
    assert sums[0] == sums[1]


def test_retention_forgets_older_snapshots_of_the_day(vm):
    """keep-daily 3 keeps the newest of each day: a second backup today leaves one snapshot."""
    assert vm.run(f"{SCRIPT} backup").rc == 0
    count = vm.check_output(
        f"set -a; . {ENV}; RESTIC_CACHE_DIR=/var/cache/onebox-offsite restic snapshots --json"
        " | jq length"
    )
    assert count == "1"


def test_wrong_password_fails_and_leaves_the_dumps(vm, fresh, dumps_before):
    for command in ["backup", "latest", "check"]:
        result = run_with(vm, {"RESTIC_PASSWORD": "not-the-password"}, command)
        assert result.rc == 4, (command, result.stderr)
        assert "refuses the password" in result.stderr
    result = run_with(fresh, {"RESTIC_PASSWORD": "not-the-password"}, "restore /tmp/wrong-pw")
    assert result.rc == 4, result.stderr
    assert fingerprint(vm) == dumps_before


def test_unreachable_target_fails_and_leaves_the_dumps(vm, fresh, target, dumps_before):
    target.check_output("systemctl stop ssh.service ssh.socket 2>/dev/null; systemctl stop ssh")
    try:
        for host, command in [(vm, "backup"), (vm, "latest"), (fresh, "restore /tmp/unreach")]:
            result = host.run(f"{SCRIPT} {command}")
            assert result.rc == 3, (command, result.stderr)
            assert "cannot be reached" in result.stderr
        # The service reports the failure to systemd (the doctor and `systemctl --failed` see it).
        vm.run("systemctl start onebox-offsite.service")
        shown = vm.check_output("systemctl show -p Result -p ExecMainStatus onebox-offsite.service")
        assert "ExecMainStatus=3" in shown, shown
    finally:
        target.check_output("systemctl start ssh")
    assert fingerprint(vm) == dumps_before
    assert vm.run(f"{SCRIPT} latest").rc == 0


def test_corrupted_pack_fails_check_and_restore(vm, fresh, target, dumps_before):
    # The largest pack holds dump data; flip bytes in its middle.
    pack = target.check_output(
        f"find {REPO_DIR}/data -type f -printf '%s %p\\n' | sort -n | tail -1"
    )
    size, path = pack.split()
    target.check_output(
        f"printf 'corrupted-by-the-test' | dd of={path} bs=1 seek={int(size) // 2} conv=notrunc"
    )
    check = run_with(vm, {"OFFSITE_CHECK_PERCENT": "100"}, "check")
    assert check.rc == 7, check.stderr
    assert "found damage" in check.stderr
    restore = fresh.run(f"{SCRIPT} restore /tmp/corrupt-restore")
    assert restore.rc in (6, 8), restore.stderr
    assert "restic restore" in restore.stderr or "does not match" in restore.stderr
    assert fingerprint(vm) == dumps_before


def test_fingerprint_sees_a_change(vm, dumps_before):
    """The comparison above can fail: a touched dump changes the fingerprint."""
    name = dump_names(vm, DUMPS)[0]
    vm.check_output(f"cp -p {DUMPS}/{name} /root/keep && touch {DUMPS}/{name}")
    try:
        assert fingerprint(vm) != dumps_before
    finally:
        vm.check_output(f"cp -p /root/keep {DUMPS}/{name}")
