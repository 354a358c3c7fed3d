"""The put-away screen at 80×24: a plate says its bin, the wrong bin is refused with the bell, the right one records."""

from __future__ import annotations

import sqlite3

import pytest

from sync.store import Store
from terminal.app import make_app
from terminal.screens.putaway import PutAwayScreen
from terminal.screens.receive import ReceiveScreen
from terminal.widgets.outcome_banner import OutcomeBanner
from tests.conftest import post_scan, scanner_burst, wait_until
from tests.helpers.units import inspected_unit, received_rma


@pytest.fixture
def plates(db_path):
    """(restock plate, b_stock plate) of two inspected units; operator pat registered."""
    with Store(db_path) as store:
        received_rma(store)
        store.add_operator("pat", "Pat Lee", "clerk")
        return inspected_unit(store, "resellable", "restock", "RESTOCK"), inspected_unit(
            store, "discounted", "b_stock", "B-GRADE"
        )


def screen(app) -> PutAwayScreen:
    return app.get_screen("putaway")


def banner(app) -> tuple[str, str]:
    widget = screen(app).query_one(OutcomeBanner)
    return widget.word, " ".join(str(widget.render()).split())


async def scan(pilot, text: str) -> None:
    n = screen(pilot.app).handled
    scanner_burst(pilot.app, text)
    await wait_until(pilot, lambda: screen(pilot.app).handled > n)


def put_events(db_path) -> list[dict]:
    with Store(db_path) as store:
        return [e.payload for e in store.events() if e.type == "unit.put_away"]


def rung(app) -> list[bool]:
    """Record each ring of the app's bell (problem or not), and still ring it."""
    rings: list[bool] = []
    real = app.ring

    def ring(problem: bool) -> None:
        rings.append(problem)
        real(problem)

    app.ring = ring
    return rings


async def test_f12_opens_put_away_the_plate_names_the_bin_and_the_right_bin_records(settings, plates, db_path):
    restock, _ = plates
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PutAwayScreen))
        rings = rung(app)
        await scan(pilot, restock)
        word, text = banner(app)
        assert word == "TO BIN" and f"{restock} (Earbuds, RESTOCK) goes to RESTOCK" in text
        await scan(pilot, "BIN:RESTOCK")
        word, text = banner(app)
        assert word == "PUT AWAY" and f"{restock} put away in RESTOCK" in text
        assert rings == [False, False]
    assert put_events(db_path) == [
        {"lpn": restock, "bin": "RESTOCK", "channel": "restock", "rma": "RMA-1", "line": 1, "unit": 1, "from": None}
    ]


async def test_the_wrong_bin_is_refused_with_the_bell_and_the_unit_stays_in_hand(settings, plates, db_path):
    _, b_stock = plates
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PutAwayScreen))
        rings = rung(app)
        await scan(pilot, b_stock)
        await scan(pilot, "BIN:RESTOCK")
        word, text = banner(app)
        assert word == "WRONG BIN" and f"Bin RESTOCK takes restock, not b_stock: put {b_stock} in B-GRADE" in text
        assert rings[-1] is True and put_events(db_path) == []
        await scan(pilot, "BIN:B-GRADE")  # the unit is still in hand: the right bin now
        assert banner(app)[0] == "PUT AWAY"
    assert [p["bin"] for p in put_events(db_path)] == ["B-GRADE"]


async def test_a_bin_before_any_plate_and_a_stranger_plate_are_refused(settings, plates, db_path):
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PutAwayScreen))
        rings = rung(app)
        await scan(pilot, "BIN:RESTOCK")
        assert banner(app)[0] == "SCAN" and "license plate first" in banner(app)[1]
        await scan(pilot, "LP12345")
        assert banner(app)[0] == "NOT A PLATE"
        assert rings == [True, True]
    assert put_events(db_path) == []


async def test_the_unit_already_in_the_bin_is_said(settings, plates, db_path):
    restock, _ = plates
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PutAwayScreen))
        for text in (restock, "BIN:RESTOCK", restock, "BIN:restock"):
            await scan(pilot, text)
        word, text = banner(app)
        assert word == "ALREADY IN BIN" and f"{restock} is in RESTOCK already" in text
    assert len(put_events(db_path)) == 1


async def test_a_bin_label_at_receiving_records_nothing(settings, plates, db_path):
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        receive = app.get_screen("receive")
        assert isinstance(receive, ReceiveScreen)
        scanner_burst(app, "BIN:RESTOCK")
        await wait_until(pilot, lambda: receive.handled >= 1)
        assert receive.query_one(OutcomeBanner).word == "NOT READ"
    with Store(db_path) as store:
        assert "parcel.unexpected" not in [e.type for e in store.events()]


async def test_a_locked_database_is_one_line_and_the_unit_stays_in_hand(settings, plates, db_path):
    restock, _ = plates
    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PutAwayScreen))
        await scan(pilot, restock)
        # hold the write lock longer than the station waits (its busy timeout is 5 s)
        other = sqlite3.connect(db_path, isolation_level=None, timeout=1)
        other.execute("BEGIN IMMEDIATE")
        try:
            await scan(pilot, "BIN:RESTOCK")
            word, text = banner(app)
            assert word == "DATABASE LOCKED" and f"{restock} is still in hand: scan bin RESTOCK again" in text
        finally:
            other.execute("ROLLBACK")
            other.close()
        await scan(pilot, "BIN:RESTOCK")  # the next write works, with the unit still in hand
        assert banner(app)[0] == "PUT AWAY"
    assert [p["bin"] for p in put_events(db_path)] == ["RESTOCK"]


async def test_a_bin_label_at_inspection_opens_nothing(settings, plates, db_path):
    from terminal.screens.inspect import InspectScreen

    app = make_app(settings, operator="pat")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectScreen))
        inspect = app.screen
        n = inspect.handled
        post_scan(app, "BIN:RESTOCK")
        await wait_until(pilot, lambda: inspect.handled > n)
        assert inspect.query_one("#banner").word == "NOT READ"
        assert "bin label" in " ".join(str(inspect.query_one("#banner").render()).split())
