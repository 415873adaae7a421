"""Real PostgreSQL servers, app data and table fingerprints for the backup/restore tests and
the benchmark (tests/test_backup_restore.py, tests/bench_backup.py).

Servers are the app's throwaway ones (app/tmp_postgres.py); data goes in through the app's own
Django settings, migrations, `load_dictionary` command and models, in subprocesses, so this
test process never configures Django itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "app"
SCRIPTS = REPO / "roles/backup/files"
BACKUP = SCRIPTS / "onebox-backup"
RESTORE = SCRIPTS / "onebox-restore"
# The app's test settings name the database "onebox" (and hash passwords quickly).
DB = "onebox"

if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))

from tmp_postgres import TempPostgres  # noqa: E402  (lives in app/, added to the path above)


def regenerated_tables() -> list[str]:
    """The tables a fresh deployment of the reader fills by itself: its profile's list, which
    the wiring hands to the backup role (backup_restore_regenerated_tables)."""
    profile = yaml.safe_load((REPO / "app/profile.yml").read_text())["onebox_app"]
    return list(profile["backup"]["reference_tables"])


@dataclass
class Fingerprint:
    """Row count and a hash of the ordered rows of every table, and every sequence's state."""

    tables: dict[str, tuple[int, str]]
    sequences: dict[str, tuple[int, bool]]

    @property
    def rows(self) -> int:
        return sum(count for count, _ in self.tables.values())


class Server:
    """A throwaway PostgreSQL server with helpers to reach one database on it."""

    def __init__(self) -> None:
        self.pg = TempPostgres().start()
        self.bindir = self.pg.bindir

    @property
    def data_dir(self) -> Path:
        return Path(self.pg.dir) / "data"

    def libpq_env(self, dbname: str = DB) -> dict[str, str]:
        """The environment the scripts read: libpq's variables, the server's binaries first."""
        return dict(
            os.environ,
            PGHOST="127.0.0.1",
            PGPORT=str(self.pg.port),
            PGUSER="postgres",
            PGDATABASE=dbname,
            PATH=f"{self.bindir}:{os.environ['PATH']}",
        )

    def conninfo(self, dbname: str = DB) -> str:
        return self.pg.url(dbname)

    def sql(self, statement: str, dbname: str = DB) -> list[tuple]:
        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str = DB, template: str | None = None) -> None:
        clause = f' TEMPLATE "{template}"' if template else ""
        self.sql(f'CREATE DATABASE "{name}"{clause}', dbname="postgres")

    def manage(self, *args: str, script: str | None = None) -> str:
        """Run the app's manage.py against database "onebox" on this server."""
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="onebox.test_settings",
            DATABASE_URL=self.conninfo(DB),
        )
        cmd = [sys.executable, "manage.py", *args]
        if script is not None:
            cmd += ["-c", textwrap.dedent(script)]
        result = subprocess.run(cmd, cwd=APP, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def destroy(self) -> None:
        """Stop the server and delete its data directory: the disaster."""
        self.pg.stop()

    def fingerprint(self, dbname: str = DB, schema: str = "public") -> Fingerprint:
        return fingerprint(self.conninfo(dbname), schema)


def fingerprint(conninfo: str, schema: str = "public") -> Fingerprint:
    """Count and sha256 of `COPY (SELECT * FROM t ORDER BY <primary key>) TO STDOUT` per table."""
    tables: dict[str, tuple[int, str]] = {}
    sequences: dict[str, tuple[int, bool]] = {}
    with psycopg.connect(conninfo) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1",
                [schema],
            )
        ]
        for name in names:
            # The primary key's columns, else every column: a total order either way.
            order = [
                row[0]
                for row in conn.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                    "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                    "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
                    [f'"{schema}"."{name}"'],
                )
            ]
            qualified = f'"{schema}"."{name}"'
            order_by = ", ".join(f'"{c}"' for c in order) if order else "1"
            digest = hashlib.sha256()
            count = 0
            copy_sql = f"COPY (SELECT * FROM {qualified} ORDER BY {order_by}) TO STDOUT"
            with conn.cursor().copy(copy_sql) as copy:
                for block in copy:
                    digest.update(block)
                    count += bytes(block).count(b"\n")
            tables[name] = (count, digest.hexdigest())
        for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = %s ORDER BY 1", [schema]
        ).fetchall():
            last, called = conn.execute(
                f'SELECT last_value, is_called FROM "{schema}"."{name}"'
            ).fetchone()
            sequences[name] = (last, called)
    return Fingerprint(tables, sequences)


# Users, API tokens and vocabulary made through the app's models. Prints the raw tokens and
# passwords of a few users as JSON, so a test can log in with them after a restore.
_LOAD_USERS = """
import json, random
from django.contrib.auth import get_user_model
from django.utils import timezone
from reader.models import ApiToken, Headword, VocabWord

User = get_user_model()
rng = random.Random(7)
forms = list(Headword.objects.order_by("form").values_list("form", flat=True)[:20000])
forms = [f for f in forms if len(f) <= 64]
statuses = [s for s, _ in VocabWord.Status.choices]
now = timezone.now()
samples = {}
for n in range(USERS):
    user = User.objects.create_user(
        f"reader{n}", f"reader{n}@example.org", f"pw-{n}-secret", first_name=f"Reader {n}"
    )
    _, raw = ApiToken.issue(user)
    VocabWord.objects.bulk_create(
        VocabWord(user=user, word=w, status=rng.choice(statuses), created_at=now, updated_at=now)
        for w in rng.sample(forms, min(WORDS, len(forms)))
    )
    if n < 3:
        samples[f"reader{n}"] = {"password": f"pw-{n}-secret", "token": raw}
User.objects.create_superuser("admin", "admin@example.org", "admin-secret")
print(json.dumps(samples))
"""


def load_app_data(server: Server, users: int, words: int, cedict: Path | None = None) -> dict:
    """Migrate, load the dictionary (the full one, or `cedict`), add users with vocabulary."""
    server.manage("migrate", "--no-input", "-v", "0")
    server.manage("load_dictionary", *(["--cedict", str(cedict)] if cedict else []))
    script = _LOAD_USERS.replace("USERS", str(users)).replace("WORDS", str(words))
    out = server.manage("shell", script=script)
    return json.loads(out.strip().splitlines()[-1])


def run_script(script: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(script), *args], env=env, capture_output=True, text=True, timeout=600
    )


def dumps_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.dump"))
