"""A station whose database was put back from an older copy: the server keeps what it holds, what the
station records afterwards still reaches it, and a person is told.  Against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import pytest

from sync.store import Outcome, Store
from terminal.sync_worker import SyncWorker
from tests.sync.test_sync_exactly_once import client_for, import_rmas, rma

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]  # the `rma` console script
CODES = [f"RMA-{i:06d}" for i in range(30)]


class Station:
    """Station A's database file, opened for each step as the station does after a restart."""

    def __init__(self, path, client):
        self.path, self.client = path, client

    def receive(self, codes) -> list[str]:
        """Receive these RMAs; the ids of the events recorded."""
        with Store(self.path) as store:
            before = store.last_seq()
            for code in codes:
                assert store.receive(code, "A", "op1").outcome == Outcome.RECEIVED
            return [e.id for e in store.events(before, 10**6)]

    def sync(self):
        with Store(self.path) as store:
            return self.client.sync(store)

    def copy_to(self, target) -> None:
        """Copy the closed database file (SQLite folds the WAL into it when the last connection closes)."""
        assert not self.path.with_name(self.path.name + "-wal").exists()
        shutil.copy(self.path, target)

    def put_back(self, copy) -> None:
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        shutil.copy(copy, self.path)


def restored_station(server, tokens, tmp_path) -> tuple[Station, list[str]]:
    """Receive 5, sync, copy the database, receive 5, sync, put the copy back; the 10 event ids the server holds."""
    import_rmas(server.url, tokens["erp"], [rma(code) for code in CODES])
    station = Station(tmp_path / "station-A.db", client_for(server.url, tokens["A"]))
    station.sync()  # the expected RMAs
    held = station.receive(CODES[0:5])
    assert station.sync().waiting == 0
    station.copy_to(tmp_path / "copy.db")
    held += station.receive(CODES[5:10])
    assert station.sync().waiting == 0
    station.put_back(tmp_path / "copy.db")
    return station, held


@pytest.mark.parametrize("recorded_after", [3, 0, 7])
def test_restored_station_database_loses_nothing_and_says_so(storage, server, tokens, tmp_path, recorded_after):
    station, held = restored_station(server, tokens, tmp_path)
    new = station.receive(CODES[10 : 10 + recorded_after])
    report = station.sync()

    # the server keeps its 10; the events recorded after the restore follow them, with their own ids
    assert storage.db.station_events("A") == list(enumerate(held + new, 1))
    assert report.waiting == 0
    assert "older" in report.restored and "server keeps" in report.restored
    with Store(station.path) as store:
        assert store.unsent_count() == 0
        [found] = store.restored_streams()
        assert found["server_seq"] == 10 and found["detail"] == report.restored
    for code in CODES[10 : 10 + recorded_after]:
        assert storage.db.timeline(code).stage == "received"

    # later work goes after it, and the next round finds nothing more to say
    later = station.receive(CODES[20:22])
    again = station.sync()
    assert again.waiting == 0 and again.restored == ""
    assert storage.db.station_events("A") == list(enumerate(held + new + later, 1))
    with Store(station.path) as store:
        assert len(store.restored_streams()) == 1


def test_killed_after_the_push_reached_the_server_is_not_a_restore(storage, server, tokens, make_station):
    a = make_station("A", events=40)
    client = client_for(server.url, tokens["A"])
    client.sync(a)
    with a.write() as conn:
        for i in range(30):
            a._append(conn, "parcel.unexpected", "A", "op1", {"scanned": f"late-{i}"})
    client.push(a)  # the server holds all 70
    with a.write() as conn:  # as if killed before the last acknowledgements were written
        a.set_state(conn, "acked_seq", "25")
    report = client.sync(a)
    assert report.restored == "" and report.waiting == 0
    assert storage.db.station_events("A") == [(e.seq, e.id) for e in a.events(0, 10**6)]
    assert a.restored_streams() == []


def test_rma_sync_and_conflicts_show_the_restore_in_one_line(sqlite_storage, sqlite_server, sqlite_tokens, tmp_path):
    station, held = restored_station(sqlite_server, sqlite_tokens, tmp_path)
    new = station.receive(CODES[10:17])
    env = os.environ | {"RMA_STATION_CONFIG": os.devnull}
    done = subprocess.run(
        [
            *RMA,
            "sync",
            "--once",
            "--db",
            str(station.path),
            "--server",
            sqlite_server.url,
            "--token",
            sqlite_tokens["A"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    [warning] = done.stderr.splitlines()
    assert "older" in warning and "server keeps" in warning and "Traceback" not in done.stderr
    assert "; 0 waiting" in done.stdout
    assert sqlite_storage.db.station_events("A") == list(enumerate(held + new, 1))

    shown = subprocess.run(
        [*RMA, "conflicts", "--db", str(station.path)], capture_output=True, text=True, timeout=60, env=env
    )
    assert shown.returncode == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    assert line.startswith("RESTORED ") and warning.split(": ", 1)[1] in line


def test_station_header_shows_the_restore(sqlite_storage, sqlite_server, sqlite_tokens, tmp_path):
    station, _ = restored_station(sqlite_server, sqlite_tokens, tmp_path)
    station.receive(CODES[10:13])
    statuses, seen = [], threading.Event()

    def report(status) -> None:
        statuses.append(status)
        seen.set()

    worker = SyncWorker(station.path, sqlite_server.url, sqlite_tokens["A"], report, interval=0.05)
    worker.start()
    try:
        assert seen.wait(60)
    finally:
        worker.stop()
    first = statuses[0]
    assert first.online and first.waiting == 0 and not first.last_error
    assert "older" in first.restored
    assert "DATABASE RESTORED" in first.text.plain
    assert len(sqlite_storage.db.station_events("A")) == 13


def test_restored_twice_the_second_time_from_a_copy_taken_after_the_first(storage, server, tokens, tmp_path):
    station, held = restored_station(server, tokens, tmp_path)
    held += station.receive(CODES[10:13])
    assert station.sync().restored
    station.copy_to(tmp_path / "copy2.db")  # it knows the first restore
    held += station.receive(CODES[13:15])
    assert station.sync().waiting == 0
    station.put_back(tmp_path / "copy2.db")
    new = station.receive(CODES[15:19])
    report = station.sync()
    assert report.waiting == 0 and "server keeps its 2 events" in report.restored
    assert storage.db.station_events("A") == list(enumerate(held + new, 1))
    with Store(station.path) as store:
        assert [r["server_seq"] for r in store.restored_streams()] == [10, 15]
