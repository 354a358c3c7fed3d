"""The station's header and F11 backlog count with the server's SLA limits (issue 12 part 1), not the built-in
ones: the sync worker reads them from the real server, the station keeps them, and a restart offline still
counts with them."""

from __future__ import annotations

from textual.widgets import DataTable

from server.db import ServerDb
from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.screens.backlog import BacklogScreen
from terminal.widgets.status_bar import StatusBar
from tests.conftest import add_rma, wait_until
from tests.helpers.server_thread import ServerThread
from tests.terminal.test_backlog import aged


async def test_the_header_and_backlog_count_with_the_servers_stricter_limit_also_after_a_restart(tmp_path, monkeypatch):
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text("categories:\n  apparel:\n    inspect: 4 hours\n", encoding="utf-8")
    monkeypatch.setenv("RMA_SLA_FILE", str(sla_file))
    server_db = ServerDb(str(tmp_path / "server.db"))
    token = server_db.add_station("bench-1")
    server = ServerThread(server_db, rate=0).start()
    db_path = tmp_path / "station.db"
    with Store(db_path) as store:
        add_rma(store, "RMA-COAT")  # apparel
        store.receive("RMA-COAT", "bench-1", "anna")
    aged(db_path, "rmas", "received_at", "code", "RMA-COAT", 5)  # 5 h: on time by the built-in 24 h
    online = Settings(
        station="bench-1", db=str(db_path), server_url=server.url, server_token=token, sources={"db": "flag"}
    )
    try:
        app = make_app(online, operator="")
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.screen.query_one(StatusBar)
            await wait_until(pilot, lambda: "1 overdue" in bar.text(80).plain, timeout=20)
            await pilot.press("f11")
            await wait_until(pilot, lambda: isinstance(app.screen, BacklogScreen))
            table = app.screen.query_one(DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            row = [str(cell) for cell in table.get_row_at(0)]
            assert row[:2] == ["inspection", "RMA-COAT"] and row[5] == "overdue"
    finally:
        server.stop()
        server_db.close()
    offline = Settings(station="bench-1", db=str(db_path), sources={"db": "flag"})  # no server: a restart offline
    app = make_app(offline, operator="")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.screen.query_one(StatusBar)
        await wait_until(pilot, lambda: "1 overdue" in bar.text(80).plain)
