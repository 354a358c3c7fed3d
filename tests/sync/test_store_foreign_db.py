"""A database that is not this station's, or is newer than it, is refused untouched (issue 15, case 7)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest

from sync.store import APPLICATION_ID, MIGRATIONS, DatabaseUnavailable, Store
from tests.conftest import add_rma


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rma_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )


@pytest.fixture
def other_app_db(tmp_path):
    """The SQLite file of some other program (a shop's customer list)."""
    path = tmp_path / "crm.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Karin Larsen')")
    conn.commit()
    conn.close()
    return path


def test_another_applications_database_is_refused_and_left_as_it_was(other_app_db):
    before = digest(other_app_db)
    with pytest.raises(DatabaseUnavailable) as refused:
        Store(other_app_db)
    message = str(refused.value)
    assert "\n" not in message and "another program" in message and "customers" in message
    assert digest(other_app_db) == before  # no station table, not even WAL mode
    assert not (other_app_db.parent / "crm.sqlite-wal").exists()


def test_cli_refuses_another_applications_database_with_one_line(tmp_path, other_app_db):
    before = digest(other_app_db)
    done = rma_cli(tmp_path, "receive", "RMA-1", "--db", str(other_app_db))
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "another program" in done.stderr
    assert digest(other_app_db) == before


def test_unknown_migration_means_a_newer_station_and_is_refused(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
        with store.write() as conn:
            conn.execute("INSERT INTO _migrations VALUES ('099_from_the_future', '2030-01-01')")
    with pytest.raises(DatabaseUnavailable) as refused:
        Store(db_path)
    assert "099_from_the_future" in str(refused.value) and "newer" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_user_version_99_is_refused(tmp_path, db_path):
    with Store(db_path) as store:
        store.conn.execute("PRAGMA user_version = 99")
    with pytest.raises(DatabaseUnavailable) as refused:
        Store(db_path)
    assert "newer" in str(refused.value)
    done = rma_cli(tmp_path, "receive", "RMA-1", "--db", str(db_path))
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "newer" in done.stderr


def test_fresh_path_and_empty_file_become_station_databases(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for path in (tmp_path / "new.db", empty):
        with Store(path) as store:
            assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        with Store(path) as store:  # and it opens again
            assert store.last_seq() == 0


def test_a_database_of_an_older_station_version_still_opens_and_is_stamped(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
        store.receive("RMA-1", "bench-1", "anna")
        # what older versions wrote: no application id, no user version, only some of the migrations
        store.conn.execute("PRAGMA application_id = 0")
        store.conn.execute("PRAGMA user_version = 0")
        store.conn.execute("DROP TABLE photo_uploads")
        store.conn.execute("DELETE FROM _migrations WHERE name = '004_photo_uploads'")
    with Store(db_path) as store:
        assert store.get_rma("RMA-1").stage == "received"
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert store.conn.execute("SELECT count(*) FROM photo_uploads").fetchone()[0] == 0
