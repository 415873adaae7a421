"""A throwaway PostgreSQL server for the tests and the benchmark.

Runs Debian's own binaries (/usr/lib/postgresql/<version>/bin, not the pg_* wrappers on the
PATH) in a temporary directory: unix socket in that directory, TCP on a free port of
127.0.0.1, trust authentication, durability off for speed. As root the server runs as the
`postgres` OS user, because initdb refuses to run as root.
"""

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path


def find_bindir() -> Path:
    """The newest installed server version's bin directory."""
    candidates = [Path(d) for d in glob("/usr/lib/postgresql/*/bin") if Path(d, "initdb").exists()]
    if not candidates:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
            "install them with `apt-get install postgresql`."
        )

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))

    return max(candidates, key=version)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """Context manager: `with TempPostgres() as pg: pg.host, pg.port, pg.url(dbname)`."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.dir: Path | None = None
        self.port = 0
        self._as_postgres: list[str] = []

    @property
    def host(self) -> str:
        """The socket directory (libpq treats a host starting with / as one)."""
        return str(self.dir)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres, *args],
            check=True,
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> "TempPostgres":
        self.dir = Path(tempfile.mkdtemp(prefix="onebox-pg-"))
        atexit.register(self.stop)  # also when a test run is interrupted
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        try:
            self._run(
                str(self.bindir / "initdb"),
                "-D", str(data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"),
                "-o", options, "-w", "-t", "60", "start",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.dir / "server.log"
            detail = log.read_text() if log.exists() else exc.stderr.decode(errors="replace")
            self.stop()
            raise RuntimeError(f"could not start PostgreSQL: {detail}") from exc
        return self

    def stop(self) -> None:
        """Stop the server (if running) and remove its directory. Safe to call twice."""
        if self.dir is None:
            return
        data = self.dir / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*self._as_postgres, str(self.bindir / "pg_ctl"), "-D", str(data),
                 "-m", "immediate", "-w", "stop"],
                cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> "TempPostgres":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
