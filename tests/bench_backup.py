"""Time onebox-backup and onebox-restore on the test data set; print the figures.

    .venv/bin/python tests/bench_backup.py [--users 200] [--words 500] [--runs 3]

The data set: the full CC-CEDICT dictionary loaded by the app's `load_dictionary`, plus users
with an API token and vocabulary each, made through the app's models. A benchmark, not a test:
it asserts nothing about time; it does check that each restore gave back every row.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from backup_support import BACKUP, RESTORE, Server, dumps_in, load_app_data, run_script


def timed(script: Path, *args: str, env: dict[str, str]) -> float:
    started = time.monotonic()
    result = run_script(script, *args, env=env)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{script.name} failed ({result.returncode}): {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--words", type=int, default=500, help="vocabulary words per user")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    source = Server()
    backups = Path(tempfile.mkdtemp(prefix="onebox-bench-"))
    try:
        source.create_database()
        started = time.monotonic()
        load_app_data(source, users=options.users, words=options.words)
        load_seconds = time.monotonic() - started
        before = source.fingerprint()
        db_bytes = source.sql("SELECT pg_database_size(current_database())")[0][0]

        backup_times = [
            timed(BACKUP, "--dir", str(backups), "--keep", "1", env=source.libpq_env())
            for _ in range(options.runs)
        ]
        (dump,) = dumps_in(backups)
        dump_path = backups / dump

        restore_times = []
        for _ in range(options.runs):
            target = Server()
            try:
                target.create_database()
                restore_times.append(timed(RESTORE, str(dump_path), env=target.libpq_env()))
                if target.fingerprint().tables != before.tables:
                    raise SystemExit("a restore did not give back every row")
            finally:
                target.destroy()
    finally:
        source.destroy()

    print(f"PostgreSQL {source.bindir.parent.name}; data set: the full dictionary,")
    users = f"{options.users} users x {options.words} vocabulary words"
    print(f"  {users}; loaded in {load_seconds:.1f} s")
    for name, (count, _) in sorted(before.tables.items()):
        if count:
            print(f"  {name:28} {count:>9,} rows")
    print(f"  {'total':28} {before.rows:>9,} rows, database {db_bytes / 2**20:.1f} MiB")
    print(f"dump (pg_dump -Fc): {dump_path.stat().st_size / 2**20:.1f} MiB")
    for label, times in (("backup", backup_times), ("restore", restore_times)):
        print(
            f"{label:8} median {statistics.median(times):.2f} s  "
            f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
        )
    print(
        "backup = pg_dump + full read-back + fsync + checksum + prune; restore = checksum + full "
        "read + emptiness check + pg_restore in one transaction + ANALYZE, into an empty database"
    )
    for path in backups.iterdir():
        path.unlink()
    backups.rmdir()


if __name__ == "__main__":
    main()
