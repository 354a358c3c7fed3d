"""A worker that fails is one line on screen and the station keeps working (terminal.workers)."""

from __future__ import annotations

import sqlite3

import pytest

from sync.store import Store
from terminal.app import make_app
from terminal.screens.receive import ReceiveScreen
from terminal.widgets.outcome_banner import OutcomeBanner
from tests.conftest import add_rma, post_scan, wait_until


@pytest.fixture
def station_db(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-2026-000001", customer="Karin Larsen")
        add_rma(store, "RMA-2026-000002", customer="Luca Rossi")
        store.add_operator("anna", "Anna Schmidt")
    return db_path


def lines(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_failing_undo_shows_one_line_and_the_station_keeps_receiving(settings, station_db):
    app = make_app(settings, operator="anna")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, ReceiveScreen))
        await wait_until(pilot, lambda: app.operator == "anna")
        post_scan(app, "RMA-2026-000001")
        await wait_until(pilot, lambda: screen.handled == 1)
        # the table the undo reads is gone (a broken restore, another program): last_receipt raises
        with sqlite3.connect(station_db) as other:
            other.execute("ALTER TABLE rmas RENAME TO rmas_away")
        await pilot.press("f5")
        await wait_until(pilot, lambda: any("undo failed" in line for line in lines(app)))
        await pilot.pause(0.2)
        failed = [line for line in lines(app) if "failed" in line]
        assert len(failed) == 1 and "\n" not in failed[0] and "rmas" in failed[0], failed
        assert app.is_running
        with sqlite3.connect(station_db) as other:
            other.execute("ALTER TABLE rmas_away RENAME TO rmas")
        post_scan(app, "RMA-2026-000002")  # the next scan is received as ever
        await wait_until(pilot, lambda: screen.handled == 2)
        assert screen.query_one(OutcomeBanner).word == "RECEIVED"


async def test_a_failing_app_worker_is_one_line_not_the_end(settings, station_db):
    app = make_app(settings)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:

        def broken(store):
            raise RuntimeError("the disk said no")

        worker = app.run_worker(app.db.run(broken), name="header_refresh", exit_on_error=False)
        await wait_until(pilot, lambda: worker.is_finished)
        await wait_until(pilot, lambda: any("failed" in line for line in lines(app)))
        assert [line for line in lines(app) if "failed" in line] == [
            "header refresh failed (RuntimeError: the disk said no); the station keeps running — tell the "
            "supervisor if it repeats"
        ]
        assert app.is_running
