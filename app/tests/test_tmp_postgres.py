"""The throwaway PostgreSQL of the test session: found, started, and gone afterwards."""

import psycopg
import pytest
import tmp_postgres


def test_missing_binaries_name_the_package(monkeypatch):
    monkeypatch.setattr(tmp_postgres, "glob", lambda pattern: [])
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        tmp_postgres.find_bindir()


def test_server_is_stopped_and_removed_even_after_an_error():
    with pytest.raises(RuntimeError, match="a failing test"), tmp_postgres.TempPostgres() as server:
        directory = server.dir
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        pid = int((directory / "data" / "postmaster.pid").read_text().split()[0])
        raise RuntimeError("a failing test")
    assert not directory.exists()
    # The postmaster has exited (a zombie whose parent has not reaped it yet is not running).
    try:
        with open(f"/proc/{pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        pass
    assert server.dir is None
