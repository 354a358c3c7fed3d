"""A full disk, for real (a small tmpfs filled with a file): one line, nothing lost (issue 15, case 2).

The station keeps the scans it cannot write in memory, in order, says so on
the banner and in the header, and writes them once space returns; the CLI
says it in one line and exits non-zero, the database intact.  Also: the
CLI's WAL does not keep growing over a batch.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import uuid

import pytest

from sync.store import DiskFull, Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.screens.receive import ReceiveScreen
from terminal.widgets.outcome_banner import OutcomeBanner
from terminal.widgets.status_bar import StatusBar
from tests.conftest import add_rma, scanner_burst, wait_until


class SmallDisk:
    """A mounted tmpfs of a few MB that a test fills up and frees again."""

    def __init__(self, folder):
        self.folder = folder
        self.ballast = folder / "ballast"

    def fill(self) -> None:
        """Write a file until the disk says ENOSPC."""
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (1 << 16, 4096):
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        """Give the space back."""
        self.ballast.unlink()


@pytest.fixture
def small_disk(tmp_path):
    """A real 8 MB filesystem (tmpfs) mounted for this test."""
    folder = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"a full disk needs a small filesystem, and mount is not permitted here: "
            f"{mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield SmallDisk(folder)
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def empty_the_wal(path) -> None:
    """Checkpoint and truncate the WAL, so the next write has to grow a file (as on a long-running bench)."""
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    conn.close()


def rma_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("RMA_STATION_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "terminal", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def received(path) -> list[str]:
    with Store(path) as store:
        return [e.rma_code for e in store.events() if e.type == "rma.received"]


def test_store_write_on_a_full_disk_is_disk_full_and_the_next_write_works(small_disk):
    path = small_disk.folder / "station.db"
    with Store(path) as store:
        for n in range(1, 4):
            add_rma(store, f"RMA-{n}")
        empty_the_wal(path)
        small_disk.fill()
        for code in ("RMA-1", "RMA-2"):  # every write fails the same clear way, none with a rollback error
            with pytest.raises(DiskFull) as full:
                store.receive(code, "bench-1", "anna")
            assert str(full.value).startswith("disk full") and "\n" not in str(full.value)
        small_disk.free()
        assert store.receive("RMA-1", "bench-1", "anna").outcome.received
        assert store.integrity_check() == "ok"
    assert received(path) == ["RMA-1"]


def test_cli_receive_on_a_full_disk_is_one_line_and_the_database_intact(tmp_path, small_disk):
    path = small_disk.folder / "station.db"
    with Store(path) as store:
        for n in range(1, 4):
            add_rma(store, f"RMA-{n}")
        store.receive("RMA-1", "bench-1", "anna")
    small_disk.fill()
    done = rma_cli(tmp_path, "receive", "RMA-2", "RMA-3", "--db", str(path))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("rma: disk full") and "nothing was recorded" in done.stderr
    small_disk.free()
    with Store(path) as store:
        assert store.integrity_check() == "ok"
    assert received(path) == ["RMA-1"]
    again = rma_cli(tmp_path, "receive", "RMA-2", "RMA-3", "--db", str(path))
    assert again.returncode == 0, again.stderr
    assert received(path) == ["RMA-1", "RMA-2", "RMA-3"]


def test_cli_wal_stays_small_after_a_batch_while_a_station_holds_the_database(tmp_path):
    path = tmp_path / "station.db"
    codes = [f"RMA-{n:04d}" for n in range(300)]
    with Store(path) as store:
        with store.write() as conn:
            for code in codes:
                store.upsert_rma(conn, {"rma_code": code, "status": "authorized"}, [{"sku": "A-1", "qty": 1}])
        # the station is running: its connection keeps the WAL from being removed when the CLI exits
        done = rma_cli(tmp_path, "receive", *codes, "--db", str(path))
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == len(codes)
        wal = os.path.getsize(str(path) + "-wal")
        assert wal <= 64 * 1024, f"the WAL is {wal} bytes after {len(codes)} receipts"
        assert store.conn.execute("SELECT count(*) FROM rmas WHERE stage = 'received'").fetchone()[0] == len(codes)


async def test_station_keeps_scans_while_the_disk_is_full_and_writes_them_in_order(small_disk):
    path = small_disk.folder / "station.db"
    with Store(path) as store:
        for n in range(1, 5):
            add_rma(store, f"RMA-{n}")
        store.add_operator("anna", "Anna Schmidt")
    settings = Settings(station="bench-t", db=str(path), sources={"db": "flag", "station": "flag"})
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, ReceiveScreen))
        banner = screen.query_one(OutcomeBanner)
        await wait_until(pilot, lambda: app.operator == "anna")
        empty_the_wal(path)
        small_disk.fill()
        for code in ("RMA-1", "RMA-2", "RMA-3"):
            scanner_burst(app, code)
            await pilot.pause()
        await wait_until(pilot, lambda: "3 scans waiting" in str(banner.render()))
        shown = str(banner.render())
        assert banner.word == "DISK FULL" and "disk full: 3 scans waiting, nothing lost" in shown
        await wait_until(pilot, lambda: "DISK FULL" in str(screen.query_one(StatusBar).render()))
        assert "3 waiting" in str(screen.query_one(StatusBar).render())
        assert received(path) == []  # nothing written yet, nothing lost either
        small_disk.free()
        await wait_until(pilot, lambda: screen.handled >= 3)
        assert received(path) == ["RMA-1", "RMA-2", "RMA-3"]
        await wait_until(pilot, lambda: "DISK FULL" not in str(screen.query_one(StatusBar).render()))
        scanner_burst(app, "RMA-4")  # and the next scan is written as usual
        await wait_until(pilot, lambda: screen.handled >= 4)
        assert banner.word == "RECEIVED"
    assert received(path) == ["RMA-1", "RMA-2", "RMA-3", "RMA-4"]
