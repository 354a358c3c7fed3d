"""The station's backlog (issue 12 part 1): what waits here oldest first with its SLA clock, the F11 screen at
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
from tests.conftest import add_rma, wait_until
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
        assert "F11" in " ".join(str(k.key_display or k.key) for k in app.screen.query("FooterKey")).upper()
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
