"""The station's backlog (issue 12 part 1): what waits here with its SLA clock, the F11 screen at
80×24, and the overdue count in the header."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from textual.widgets import DataTable

from sync.store import Store
from terminal.app import make_app
from terminal.backlog import station_backlog
from terminal.putaway import station_bins
from terminal.screens.backlog import BacklogScreen
from terminal.widgets.status_bar import StatusBar
from tests.conftest import add_rma, scanner_burst, wait_until
from tests.helpers.units import inspected_unit, received_rma

HOSTILE = "RMA-[B]BOLD[/B]"  # an imported code that is Textual markup


def aged(db_path, table: str, column: str, key: str, value: str, hours: float) -> None:
    """Move one row's time back by ``hours`` (the station's clock ran on meanwhile)."""
    with sqlite3.connect(db_path) as conn:
        at = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="milliseconds")
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (at, value))


def make_backlog(db_path, settings) -> tuple[str, str]:
    """RMA-1 with two units inspected (one put away), HOSTILE received and waiting: the two plates."""
    with Store(db_path) as store:
        received_rma(store)
        waiting = inspected_unit(store, "resellable", "restock", "RESTOCK")
        placed = inspected_unit(store, "resellable", "restock", "RESTOCK")
        store.put_away(placed, "RESTOCK", "bench-1", "qc1", bins=station_bins(settings))
        add_rma(store, HOSTILE)
        store.receive(HOSTILE, "bench-t", "anna")
    return waiting, placed


def test_the_backlog_is_oldest_first_with_each_clock(db_path, settings):
    waiting, _placed = make_backlog(db_path, settings)
    aged(db_path, "rmas", "received_at", "code", HOSTILE, 30)
    with Store(db_path) as store:
        now = datetime.now(UTC)
        backlog = station_backlog(store, now)
        later = station_backlog(store, now + timedelta(hours=9))
    assert [(w.step, w.code, w.lpn, w.state) for w in backlog] == [
        ("inspect", HOSTILE, "", "overdue"),  # received 30 h ago: the 24 h limit passed
        ("put_away", "RMA-1", waiting, "on_time"),  # the unit put away waits no more
    ]
    assert backlog[0].due_at == backlog[0].started_at + timedelta(hours=24) and 29.9 < backlog[0].age_hours < 30.1
    assert [w.state for w in later] == ["overdue", "overdue"]  # put-away's limit is 8 hours


async def test_f11_shows_the_backlog_at_80x24_and_the_header_counts_the_overdue(db_path, settings):
    waiting, _placed = make_backlog(db_path, settings)
    aged(db_path, "rmas", "received_at", "code", HOSTILE, 30)
    aged(db_path, "inspections", "ended_at", "lpn", waiting, 2)
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "1 overdue" in bar.text(80).plain)
        await wait_until(  # the footer composes its keys a moment after the screen
            pilot, lambda: "F11" in " ".join(str(k.key_display or k.key) for k in app.screen.query("FooterKey")).upper()
        )
        await pilot.press("f11")
        await wait_until(pilot, lambda: isinstance(app.screen, BacklogScreen))
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(2)]
        assert rows[0][:2] == ["inspection", HOSTILE] and rows[0][3] == "30 h" and rows[0][5] == "overdue"
        assert rows[1][:2] == ["put-away", waiting] and rows[1][3] == "2 h" and rows[1][5] == "on time"
        assert table.virtual_size.width <= table.region.width <= 80  # every column shown, no sideways scrolling
        assert "1 overdue" in str(app.screen.query_one("#said").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, BacklogScreen))


async def test_a_run_of_writes_reads_the_backlog_once_after_them_and_the_header_follows(db_path, settings, monkeypatch):
    """At 1,000,000 plates reading the backlog held the database thread ~0.1 s after every put-away, so the
    next scan waited (bench/lpn_bench.py): writes now ask for one reading, BACKLOG_AFTER_WRITE s after."""
    import terminal.app

    make_backlog(db_path, settings)
    aged(db_path, "rmas", "received_at", "code", HOSTILE, 30)
    with Store(db_path) as store:
        for n in range(3):
            add_rma(store, f"RMA-RUN-{n}")
        store.add_operator("anna", "Anna Schmidt", "supervisor")
    readings = []

    def counted(store, *args, **kwargs):
        readings.append(1)
        return station_backlog(store, *args, **kwargs)

    monkeypatch.setattr(terminal.app, "station_backlog", counted)
    # long enough for three receipts on a loaded machine (at 0.5 s CI's neighbours once let a reading in
    # between them), short enough to wait for
    monkeypatch.setattr(terminal.app, "BACKLOG_AFTER_WRITE", 3.0)
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "1 overdue" in bar.text(80).plain and app.operator == "anna")
        at_start = len(readings)
        for n in range(3):  # three receipts in a row: each a write
            scanner_burst(app, f"RMA-RUN-{n}")
            await pilot.pause()
        await wait_until(pilot, lambda: app.screen.handled >= 3)
        assert len(readings) == at_start  # none read the backlog at once
        await wait_until(pilot, lambda: len(readings) == at_start + 1)  # one reading, after them
        await pilot.pause(0.8)
        assert len(readings) == at_start + 1
