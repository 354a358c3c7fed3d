"""The exceptions at the bench, at 80×24: F4 another parcel (receiving), F1 unexpected parcels (a supervisor),
F1 at inspection: a line not received, an undeclared item."""

from __future__ import annotations

import pytest

from qc_checklists import standard_folder
from sync.store import Store
from terminal.app import make_app
from terminal.screens.dialogs import Confirm, SupervisorApproval
from terminal.screens.exceptions import InspectExceptions, UnexpectedParcels
from terminal.screens.inspect import InspectScreen
from terminal.screens.inspect_dialogs import PhotoDialog
from terminal.screens.receive import ReceiveScreen
from tests.conftest import add_rma, scanner_burst, wait_until

SMALL = (80, 24)


@pytest.fixture
def station_db(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-7", customer="Karin Larsen", tracking=("SF1023574470215", "SF1023574470223"))
        add_rma(
            store,
            "RMA-8",
            lines=[
                {"sku": "GEN-1", "gtin": "4006381333931", "qty": 1, "category": "general", "description": "Yoga mat"},
                {"sku": "GEN-2", "gtin": "5901234123457", "qty": 2, "category": "general", "description": "Strap"},
            ],
        )
        store.receive("RMA-8", "dock-1", "anna")
        store.add_operator("ben", "Ben Novak", "clerk")
        store.add_operator("sam", "Sam Okafor", "supervisor")
        store.add_operator("qc1", "Chloé Dubois", "inspector")
    return db_path


def receive_screen(app) -> ReceiveScreen:
    return next(s for s in app.screen_stack if isinstance(s, ReceiveScreen))


def banner(screen) -> tuple[str, str]:
    widget = screen.query_one("#banner")
    return widget.word, str(widget.render())


def footer_text(app) -> str:
    """The footer's keys that are on screen (inside the terminal's width)."""
    width = app.size.width
    return " ".join(str(key.render()) for key in app.screen.query("FooterKey") if key.region.right <= width)


def events(db_path) -> list:
    with Store(db_path) as store:
        return store.events()


async def test_f4_records_the_parcel_just_scanned_as_a_second_parcel(settings, station_db):
    app = make_app(settings, operator="ben")
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.operator == "ben" and "f1 Unexpected" in footer_text(app))
        assert "f4" not in footer_text(app)
        screen = receive_screen(app)
        for n, code in enumerate(("RMA-7", "RMA-7"), 1):
            scanner_burst(app, code)
            await wait_until(pilot, lambda n=n: screen.handled >= n)
        assert banner(screen)[0] == "ALREADY RECEIVED" and "F4 records it as one" in banner(screen)[1]
        await wait_until(pilot, lambda: "f4 Another parcel" in footer_text(app))
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")
        await wait_until(pilot, lambda: banner(screen)[0] == "SECOND PARCEL")
        assert "Parcel 2 of RMA-7" in banner(screen)[1]
        # the other tracking number of the RMA is told apart by the scan alone: parcel 3
        scanner_burst(app, "SF1023574470223")
        await wait_until(pilot, lambda: screen.handled >= 3)
        assert banner(screen)[0] == "ALREADY RECEIVED"  # the first parcel came by its RMA label: the clerk decides
    parcels = [e.payload["parcel_no"] for e in events(station_db) if e.type == "rma.parcel_received"]
    assert parcels == [2]


async def test_f4_after_an_unexpected_parcel_records_nothing(settings, station_db):
    app = make_app(settings, operator="ben")
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.operator == "ben")
        scanner_burst(app, "NOPE-1")
        await wait_until(pilot, lambda: receive_screen(app).handled >= 1)
        await pilot.press("f4")  # not offered: the scan named no RMA
        await pilot.pause()
        assert banner(receive_screen(app))[0] == "NOT EXPECTED" and "f4" not in footer_text(app)
    assert [e.type for e in events(station_db)][-2:] == ["operator.signed_in", "parcel.unexpected"]


async def test_f1_a_supervisor_attaches_an_unexpected_parcel_to_an_rma(settings, station_db):
    app = make_app(settings, operator="ben")
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: app.operator == "ben")
        screen = receive_screen(app)
        scanner_burst(app, "TORN-LABEL-1")
        await wait_until(pilot, lambda: screen.handled >= 1)
        assert banner(screen)[0] == "NOT EXPECTED"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, UnexpectedParcels) and app.screen.parcels)
        dialog = app.screen
        assert "a Attach to RMA" in footer_text(app) and "b Blind RMA" in footer_text(app)
        await pilot.press("a")
        await wait_until(pilot, lambda: app.focused is dialog.query_one("#rma"))
        await pilot.press(*"RMA-7", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorApproval))
        scanner_burst(app, "OP:sam")
        await wait_until(pilot, lambda: "attached to RMA-7" in str(dialog.query_one("#problem").render()))
        assert "Approved by sam" in str(dialog.query_one("#problem").render())
        assert app.operator == "ben"
    attached = next(e for e in events(station_db) if e.type == "parcel.attached")
    assert (attached.rma_code, attached.operator, attached.payload["approved_by"]) == ("RMA-7", "ben", "sam")
    with Store(station_db) as store:
        assert store.get_rma("RMA-7").stage == "received" and store.unexpected_parcels() == []


async def open_bench(app, pilot) -> InspectScreen:
    screen = InspectScreen(standard_folder())
    await app.push_screen(screen)
    await wait_until(pilot, lambda: screen.library is not None and app.operator)
    return screen


async def test_inspect_f1_closes_a_missing_line_and_records_an_undeclared_item(settings, station_db):
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_bench(app, pilot)
        assert "Missing" not in footer_text(app)  # no RMA open: nothing to close
        scanner_burst(app, "RMA-8")
        await wait_until(pilot, lambda: screen.rma is not None)
        await wait_until(pilot, lambda: "f1 Missing / undeclared" in footer_text(app))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectExceptions))
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "2 × Strap" in app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: banner(screen)[0] == "NOT RECEIVED")
        assert "2 units of Strap closed as not received" in banner(screen)[1]
        assert "not received" in str(screen.query_one("#rma").render()) or screen.short
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectExceptions))
        await pilot.press("u")
        await wait_until(pilot, lambda: app.focused is app.screen.query_one("#barcode"))
        await pilot.press(*"4012345678901", "enter")
        await pilot.press(*"blue cap", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PhotoDialog))
        await pilot.press("f12")  # no camera at this station: recorded as such
        await wait_until(pilot, lambda: banner(screen)[0] == "UNDECLARED ITEM")
        assert "EXCEPTIONS" in banner(screen)[1]
    found = events(station_db)
    closed = next(e for e in found if e.type == "line.not_received")
    assert (closed.rma_code, closed.payload["line_no"], closed.payload["quantity"]) == ("RMA-8", 2, 2)
    undeclared = next(e for e in found if e.type == "item.undeclared")
    assert (undeclared.payload["barcode"], undeclared.payload["note"]) == ("4012345678901", "blue cap")
    assert undeclared.payload["photos"] == [{"item": "undeclared", "exception": "no camera at this station"}]
