"""The station syncs in the background and says so in its header."""

from __future__ import annotations

import asyncio

from server.db import ServerDb
from sync.store import Store
from terminal.app import make_app
from terminal.config import Settings
from terminal.widgets.status_bar import StatusBar
from tests.helpers.server_thread import ServerThread


def sync_line(app) -> str:
    """What the status bars on screen say about sync."""
    return " ".join(bar.part("sync") for bar in app.screen.query(StatusBar))


async def wait_for(condition, timeout: float = 20.0) -> bool:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_worker_pushes_in_the_background_and_the_header_shows_online_then_offline(tmp_path):
    server_db = ServerDb(str(tmp_path / "server.db"))
    token = server_db.add_station("bench-1")
    server = ServerThread(server_db, rate=0).start()
    with Store(tmp_path / "station.db") as store:
        for i in range(25):
            store.receive(f"PARCEL-{i}", "bench-1", "anna")
    settings = Settings(
        station="bench-1",
        db=str(tmp_path / "station.db"),
        server_url=server.url,
        server_token=token,
        sources={"db": "flag"},
    )
    app = make_app(settings)
    try:
        async with app.run_test(size=(140, 30)) as pilot:
            assert await wait_for(lambda: "ONLINE" in sync_line(app))
            assert "waiting 0" in sync_line(app) and "last ok" in sync_line(app)
            assert len(server_db.station_events("bench-1")) == 25
            server.stop()
            await app.db.run(lambda s: s.receive("PARCEL-LATE", "bench-1", "anna"))
            app.sync_worker.sync_now()
            assert await wait_for(lambda: "OFFLINE" in sync_line(app))
            assert "waiting 1" in sync_line(app) and "unreachable" in sync_line(app)
            await pilot.pause()
        assert not app.sync_worker._thread.is_alive()  # stopped with the app
    finally:
        server.stop()
        server_db.close()


async def test_no_server_configured_means_no_worker(tmp_path):
    settings = Settings(station="bench-1", db=str(tmp_path / "station.db"), sources={"db": "flag"})
    app = make_app(settings)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.sync_worker is None
        assert all(bar.part("sync") == "" for bar in app.screen.query(StatusBar))


async def test_header_shows_a_photo_the_station_cannot_send(tmp_path):
    from sync.store import Inspection

    server_db = ServerDb(str(tmp_path / "server.db"))
    token = server_db.add_station("bench-1")
    server = ServerThread(server_db, rate=0).start()
    with Store(tmp_path / "station.db") as store:
        with store.write() as conn:
            store.upsert_rma(conn, {"rma_code": "RMA-1", "status": "authorized"}, [{"sku": "S", "qty": 1}])
        store.receive("RMA-1", "bench-1", "anna")
        store.save_inspection(
            Inspection(
                rma_code="RMA-1",
                line_no=1,
                checklist_id="general",
                checklist_hash="ab" * 32,
                answers=(
                    {"item": "works", "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "major"},
                ),
                suggested="scrapped",
                final="scrapped",
                started_at="2026-11-21T10:00:00.000+00:00",
                photos=({"item": "works", "sha256": "cd" * 32, "path": str(tmp_path / "gone.jpg"), "bytes": 10},),
            ),
            "bench-1",
            "qc1",
        )
    settings = Settings(
        station="bench-1",
        db=str(tmp_path / "station.db"),
        server_url=server.url,
        server_token=token,
        sources={"db": "flag"},
    )
    app = make_app(settings)
    try:
        async with app.run_test(size=(160, 30)) as pilot:
            assert await wait_for(lambda: "PHOTO PROBLEM" in sync_line(app))
            assert "ONLINE" in sync_line(app) and "waiting 0" in sync_line(app) and "missing" in sync_line(app)
            assert len(server_db.station_events("bench-1")) == 3  # received, item.inspected, rma.inspected
            await pilot.pause()
    finally:
        server.stop()
        server_db.close()


async def test_a_receipt_is_pushed_at_once_not_at_the_next_round(tmp_path):
    from tests.conftest import post_scan

    server_db = ServerDb(str(tmp_path / "server.db"))
    token = server_db.add_station("bench-1")
    server = ServerThread(server_db, rate=0).start()
    with Store(tmp_path / "station.db") as store:
        store.add_operator("anna", "Anna Schmidt")
    settings = Settings(
        station="bench-1",
        db=str(tmp_path / "station.db"),
        server_url=server.url,
        server_token=token,
        sources={"db": "flag"},
    )
    app = make_app(settings, operator="anna")
    try:
        async with app.run_test(size=(140, 30)):
            assert await wait_for(lambda: len(server_db.station_events("bench-1")) == 1)  # the sign-in
            assert await wait_for(lambda: "ONLINE" in sync_line(app) and "waiting 0" in sync_line(app))
            assert app.sync_worker.interval >= 5.0  # the next round on its own would come seconds later
            post_scan(app, "PARCEL-1")
            assert await wait_for(lambda: len(server_db.station_events("bench-1")) == 2, timeout=2.5)
    finally:
        server.stop()
        server_db.close()
