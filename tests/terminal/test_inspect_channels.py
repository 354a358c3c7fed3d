"""Channels and license plates at the bench: the channel shown before confirming, changed with a reason,
recorded with its rules' hash; every saved unit's plate on the event; a plate scanned shows its unit."""

from __future__ import annotations

from qc_checklists import load_library, load_routing
from sync.lpn import is_lpn
from terminal.app import make_app
from terminal.scanning import Kind, read_scan
from terminal.screens.inspect import InspectScreen
from terminal.screens.inspect_dialogs import ChannelDialog
from tests.terminal.test_inspect_screen import (  # noqa: F401 (fixtures)
    GADGET_GTIN,
    Bench,
    bench,
    folder,
    settings,
)

ALL_PASS = ("p",) * 8  # the 8 pass/fail checks of the gadgets checklist


async def save_all_pass(b) -> dict:
    await b.type_scan("RMA-1")
    await b.type_scan(GADGET_GTIN)
    await b.key(*ALL_PASS)
    await b.key("enter")
    [event] = b.events("item.inspected")
    return event.payload


async def test_the_channel_is_shown_before_confirming_and_recorded_with_the_rules_hash(bench, folder):  # noqa: F811
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key(*ALL_PASS)
    assert "→ RESTOCK, bin RESTOCK" in bench.text("#suggestion")  # seen before Enter
    await bench.key("enter")
    assert bench.word == "RESELLABLE"
    [event] = bench.events("item.inspected")
    p = event.payload
    rules = load_routing(None, load_library(folder).checklists)
    assert (p["channel"], p["suggested_channel"], p["channel_override"], p["bin"]) == (
        "restock",
        "restock",
        None,
        "RESTOCK",
    )
    assert p["routing"] == {"id": "standard", "hash": rules.content_hash}
    assert is_lpn(p["lpn"])
    assert f"Put it in bin RESTOCK (RESTOCK); license plate {p['lpn']}" in bench.text("#banner")


async def test_a_worse_grade_routes_by_the_rules_on_screen(bench):  # noqa: F811
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key("p", "p", "f", "f", "f", "p", "p", "p")  # 3 minor fails: discounted
    assert "→ B-STOCK, bin B-GRADE" in bench.text("#suggestion")
    await bench.key("enter")
    assert bench.events("item.inspected")[0].payload["channel"] == "b_stock"


async def test_changing_the_channel_needs_a_reason_and_is_recorded(bench):  # noqa: F811
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    await bench.key(*ALL_PASS)
    await bench.key("o")
    assert isinstance(bench.app.screen, ChannelDialog)
    await bench.pilot.press("5")  # donate
    await bench.pilot.pause(0.15)
    await bench.pilot.press("enter")  # no reason yet
    await bench.pilot.pause(0.05)
    assert "needs a reason" in str(bench.app.screen.query_one("#problem").render())
    await bench.pilot.press("escape")  # cancelled: the rules' channel stays
    await bench.settle()
    assert bench.screen.draft.channel_choice is None and "→ RESTOCK" in bench.text("#suggestion")
    await bench.key("o")
    await bench.pilot.press("5")
    await bench.pilot.pause(0.15)
    await bench.pilot.press(*"charity pickup today", "enter")
    await bench.settle()
    assert "→ DONATE, bin DONATE (changed from RESTOCK: charity pickup today)" in bench.text("#suggestion")
    await bench.key("enter")
    p = bench.events("item.inspected")[0].payload
    assert (p["suggested_channel"], p["channel"], p["bin"]) == ("restock", "donate", "DONATE")
    assert p["channel_override"] == {"reason": "charity pickup today"}
    assert (p["suggested"], p["final"], p["override"]) == ("resellable", "resellable", None)  # the grade stays


async def test_invalid_routing_rules_refuse_inspection_and_say_where(settings, folder, tmp_path):  # noqa: F811
    bad = tmp_path / "routing.yaml"
    bad.write_text("routing: site\nrules:\n  - then: landfill\ndefault: recycle\n", encoding="utf-8")
    app = make_app(settings, operator="qc1")
    async with app.run_test(size=(130, 50)) as pilot:
        screen = InspectScreen(folder, routing_file=bad)
        await app.push_screen(screen)
        b = Bench(app, pilot, screen)
        for _ in range(300):
            await pilot.pause(0.01)
            if screen.library is not None and app.operator:
                break
        await b.settle()
        assert b.word == "ROUTING INVALID", screen._shown
        assert f"{bad}:3: unknown channel 'landfill'" in b.text("#banner")
        await b.type_scan("RMA-1")
        await b.type_scan(GADGET_GTIN)
        assert b.word == "ROUTING INVALID", screen._shown
        assert screen.draft is None and b.events("item.inspected") == []


async def test_a_scanned_plate_shows_its_unit_and_records_nothing(bench):  # noqa: F811
    p = await save_all_pass(bench)
    before = len(bench.events())
    await bench.scan(p["lpn"].lower())  # any case, as some scanners send it
    assert bench.word == "UNIT"
    shown = bench.text("#banner")
    assert f"{p['lpn']}: RMA-1 line 2 unit 1" in shown and "grade RESELLABLE" in shown
    assert "channel RESTOCK" in shown and "bin RESTOCK" in shown
    assert len(bench.events()) == before


async def test_a_scanned_plate_at_receiving_shows_its_unit_and_receives_nothing(bench):  # noqa: F811
    p = await save_all_pass(bench)
    before = len(bench.events())
    await bench.pilot.press("f6")
    await bench.pilot.pause(0.1)
    receive = bench.app.screen
    await bench.pilot.press(*p["lpn"], "enter")
    for _ in range(200):
        await bench.pilot.pause(0.02)
        if receive.query_one("#banner").word == "UNIT":
            break
    shown = str(receive.query_one("#banner").render())
    assert receive.query_one("#banner").word == "UNIT", shown
    assert "RMA-1" in shown and "RESELLABLE" in shown and "RESTOCK" in shown
    assert len(bench.events()) == before  # not an unexpected parcel


def test_a_plate_is_its_own_kind_of_scan():
    from sync.lpn import new_lpn

    plate = new_lpn()
    assert (read_scan(plate).kind, read_scan(plate).value) == (Kind.LPN, plate)
    assert read_scan(plate.lower()).value == plate
    wrong = plate[:-1] + ("0" if plate[-1] != "0" else "1")
    assert read_scan(wrong).kind == Kind.PARCEL  # a bad check character: not a plate


def test_rma_receive_refuses_a_units_plate_and_receives_a_plate_shaped_parcel_code(tmp_path):
    from sync.lpn import new_lpn
    from sync.store import Inspection, Store
    from terminal.receiving import receive_typed

    with Store(tmp_path / "station.db") as store:
        with store.write() as conn:
            store.upsert_rma(conn, {"rma_code": "RMA-1", "status": "authorized"}, [{"sku": "S", "qty": 1}])
        store.receive("RMA-1", "dock", "anna")
        saved = store.save_inspection(
            Inspection(
                rma_code="RMA-1",
                line_no=1,
                checklist_id="general",
                checklist_hash="ab" * 32,
                answers=({"item": "damage", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None},),
                suggested="resellable",
                final="resellable",
                started_at="2026-11-21T10:00:00.000+00:00",
            ),
            "bench",
            "qc1",
        )
        before = store.last_seq()
        received, line = receive_typed(store, read_scan(saved.lpn), "dock", "anna")
        assert not received and line.startswith(f"NOT AN RMA {saved.lpn} is the license plate of a unit of RMA-1")
        assert store.last_seq() == before  # nothing recorded
        stranger = new_lpn()  # plate-shaped, on no unit: a parcel code like any other
        received, line = receive_typed(store, read_scan(stranger), "dock", "anna")
        assert line.startswith("NOT EXPECTED") and store.last_seq() == before + 1


async def test_no_channel_is_shown_before_the_first_answer(bench):  # noqa: F811
    await bench.type_scan("RMA-1")
    await bench.type_scan(GADGET_GTIN)
    assert "NOTHING ANSWERED YET" in bench.text("#suggestion") and "→" not in bench.text("#suggestion")
    await bench.key("p")
    assert "→ RESTOCK" in bench.text("#suggestion")
