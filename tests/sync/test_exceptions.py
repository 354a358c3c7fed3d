"""Exceptions on a real SQLite file: second parcels, lines not received, undeclared items, unexpected parcels."""

from __future__ import annotations

import pytest

from sync.store import Inspection, Outcome, PutAwayRefused, Store, StoreError
from tests.conftest import add_rma

TWO_LINES = [
    {"sku": "APP-1", "gtin": "4006381333931", "description": "Rain jacket", "qty": 2, "category": "apparel"},
    {"sku": "APP-2", "gtin": "5901234123457", "description": "Scarf", "qty": 1, "category": "apparel"},
]


def types(store: Store) -> list[str]:
    return [e.type for e in store.events()]


def inspect_one(store: Store, code: str, line_no: int) -> str:
    saved = store.save_inspection(
        Inspection(
            rma_code=code,
            line_no=line_no,
            checklist_id="apparel",
            checklist_hash="0" * 64,
            answers=({"item": "clean", "kind": "pass_fail", "answer": "pass", "failed": False},),
            suggested="resellable",
            final="resellable",
            started_at="2026-11-21T10:00:00.000+00:00",
        ),
        "bench-1",
        "qc1",
    )
    return saved.lpn


# -- (a) second parcels ---------------------------------------------------------------


def test_another_tracking_number_of_a_received_rma_is_its_second_parcel(store):
    add_rma(store, "RMA-1", tracking=("SF1023574470215", "SF1023574470223"))
    first = store.receive("SF1023574470215", "bench-1", "anna")
    second = store.receive("SF1023574470223", "bench-1", "anna")
    assert (first.outcome, second.outcome) == (Outcome.RECEIVED, Outcome.SECOND_PARCEL)
    assert second.parcel_no == 2
    event = store.events()[-1]
    assert (event.type, event.rma_code) == ("rma.parcel_received", "RMA-1")
    assert event.payload["parcel_no"] == 2 and event.payload["parcel_key"] == "SF1023574470223"
    assert event.payload["how"] == "scan"
    assert store.parcels_of("RMA-1") == 2


def test_the_same_parcel_scanned_again_stays_already_received(store):
    add_rma(store, "RMA-1", tracking=("SF1023574470215", "SF1023574470223"))
    store.receive("SF1023574470215", "bench-1", "anna")
    store.receive("SF1023574470223", "bench-1", "anna")
    for scan in ("SF1023574470215", "SF1023574470223", "RMA-1"):
        assert store.receive(scan, "bench-2", "ben").outcome is Outcome.ALREADY_RECEIVED
    assert types(store) == ["rma.received", "rma.parcel_received"]


def test_a_jd_waybill_tells_its_parcels_apart_by_their_number(store):
    add_rma(store, "RMA-JD", tracking=("JDVA11408814483",))
    assert store.receive("JDVA11408814483-1-2-", "bench-1", "anna").outcome is Outcome.RECEIVED
    second = store.receive("JDVA11408814483-2-2-", "bench-1", "anna")
    assert second.outcome is Outcome.SECOND_PARCEL
    assert store.events()[-1].payload.items() >= {"parcel_key": "JDVA11408814483/2", "parcels": 2}.items()
    assert store.receive("JDVA11408814483-2-2-", "bench-1", "anna").outcome is Outcome.ALREADY_RECEIVED


def test_an_rma_label_says_nothing_about_the_parcel_so_the_clerk_decides(store):
    add_rma(store, "RMA-1", tracking=("SF1023574470215", "SF1023574470223"))
    store.receive("RMA-1", "bench-1", "anna")
    # the first parcel was received by its RMA label: which parcel a tracking number is cannot be told
    assert store.receive("SF1023574470223", "bench-1", "anna").outcome is Outcome.ALREADY_RECEIVED
    second = store.receive_another_parcel("RMA-1", "bench-1", "anna")
    third = store.receive_another_parcel("rma-1", "bench-1", "anna")
    assert (second.outcome, second.parcel_no, third.parcel_no) == (Outcome.SECOND_PARCEL, 2, 3)
    assert [e.payload["how"] for e in store.events()[1:]] == ["clerk", "clerk"]


def test_another_parcel_of_an_rma_not_received_or_unknown_is_refused(store):
    add_rma(store, "RMA-1")
    with pytest.raises(StoreError, match="first parcel"):
        store.receive_another_parcel("RMA-1", "bench-1", "anna")
    with pytest.raises(StoreError, match="No RMA matches"):
        store.receive_another_parcel("NOPE", "bench-1", "anna")
    assert store.events() == []


# -- (b) lines not received -----------------------------------------------------------------


def test_a_line_closed_as_not_received_carries_rma_line_and_quantity(store):
    add_rma(store, "RMA-2", lines=TWO_LINES)
    store.receive("RMA-2", "bench-1", "anna")
    inspect_one(store, "RMA-2", 1)
    closed = store.close_not_received("RMA-2", 1, "bench-1", "qc1")
    assert (closed.units, closed.rma_done) == (1, False)
    event = store.events()[-1]
    assert event.type == "line.not_received" and event.rma_code == "RMA-2"
    assert event.payload == {
        "rma_code": "RMA-2",
        "line_no": 1,
        "sku": "APP-1",
        "units": 1,
        "quantity": 1,
        "expected": 2,
    }
    assert store.inspection_progress("RMA-2")[1] == ("resellable", "not_received")
    with pytest.raises(StoreError, match="inspection not saved: line 1"):
        inspect_one(store, "RMA-2", 1)  # the closed unit cannot be inspected after all
    with pytest.raises(StoreError, match="no open unit"):
        store.close_not_received("RMA-2", 1, "bench-1", "qc1")


def test_closing_the_last_open_line_finishes_the_rma(store):
    add_rma(store, "RMA-2", lines=TWO_LINES)
    store.receive("RMA-2", "bench-1", "anna")
    inspect_one(store, "RMA-2", 1)
    inspect_one(store, "RMA-2", 1)
    closed = store.close_not_received("RMA-2", 2, "bench-1", "qc1")
    assert closed.rma_done and closed.rma.stage == "inspected"
    done = store.events()[-1]
    assert done.type == "rma.inspected"
    assert [ln["dispositions"] for ln in done.payload["lines"]] == [["resellable", "resellable"], ["not_received"]]


def test_closing_more_units_than_are_open_or_before_receipt_is_refused(store):
    add_rma(store, "RMA-2", lines=TWO_LINES)
    with pytest.raises(StoreError, match="not received"):
        store.close_not_received("RMA-2", 1, "bench-1", "qc1")
    store.receive("RMA-2", "bench-1", "anna")
    with pytest.raises(StoreError, match="2 open unit"):
        store.close_not_received("RMA-2", 1, "bench-1", "qc1", units=3)
    with pytest.raises(StoreError, match="no line 7"):
        store.close_not_received("RMA-2", 7, "bench-1", "qc1")
    assert types(store) == ["rma.received"]


# -- (d) unexpected parcels ---------------------------------------------------------------


@pytest.fixture
def supervised(store):
    store.add_operator("sue", role="supervisor")
    store.add_operator("ben", role="clerk")
    return store


def test_an_unexpected_parcel_attached_to_an_rma_receives_it(supervised):
    store = supervised
    add_rma(store, "RMA-3")
    unexpected = store.receive("LABEL-TORN-77", "bench-1", "ben")
    assert unexpected.outcome is Outcome.NOT_EXPECTED
    parcel = store.unexpected_parcels()[0]
    done = store.attach_parcel(parcel.event_id[:8], "rma-3", "bench-1", "ben", approved_by="sue")
    assert (done.rma.stage, done.parcel_no, done.approved_by) == ("received", 1, "sue")
    attached, received = store.events()[-2:]
    assert (attached.type, attached.rma_code, attached.refers_to) == ("parcel.attached", "RMA-3", parcel.event_id)
    assert attached.payload["parcel_event"] == parcel.event_id and attached.payload["rma_code"] == "RMA-3"
    assert attached.payload["approved_by"] == "sue"
    assert (received.type, received.payload["matched_by"]) == ("rma.received", "attached")
    assert store.unexpected_parcels() == []
    with pytest.raises(StoreError, match="already"):
        store.attach_parcel(parcel.event_id, "RMA-3", "bench-1", "ben", approved_by="sue")


def test_an_unexpected_parcel_attached_to_a_received_rma_is_its_next_parcel(supervised):
    store = supervised
    add_rma(store, "RMA-3")
    store.receive("RMA-3", "bench-1", "ben")
    store.receive("NO-LABEL", "bench-1", "ben")
    done = store.attach_parcel("NO-LABEL", "RMA-3", "bench-1", "ben", approved_by="sue")
    assert done.parcel_no == 2 and store.parcels_of("RMA-3") == 2
    assert types(store)[-1] == "parcel.attached"


def test_attaching_needs_a_supervisor_and_an_authorised_rma(supervised):
    store = supervised
    add_rma(store, "RMA-C", status="cancelled")
    store.receive("NO-LABEL", "bench-1", "ben")
    before = types(store)
    with pytest.raises(StoreError, match="supervisor"):
        store.attach_parcel("NO-LABEL", "RMA-C", "bench-1", "ben", approved_by="")
    with pytest.raises(StoreError, match="not a supervisor"):
        store.attach_parcel("NO-LABEL", "RMA-C", "bench-1", "ben", approved_by="ben")
    with pytest.raises(StoreError, match="cancelled"):
        store.attach_parcel("NO-LABEL", "RMA-C", "bench-1", "ben", approved_by="sue")
    with pytest.raises(StoreError, match="No RMA RMA-X"):
        store.attach_parcel("NO-LABEL", "RMA-X", "bench-1", "ben", approved_by="sue")
    with pytest.raises(StoreError, match="No unexpected parcel"):
        store.attach_parcel("SOMETHING-ELSE", "RMA-C", "bench-1", "ben", approved_by="sue")
    assert types(store) == before


def test_a_blind_rma_is_created_received_and_inspectable(supervised):
    store = supervised
    store.receive("NO-LABEL", "bench-1", "ben")
    done = store.create_blind_rma(
        "NO-LABEL",
        "bench-1",
        "sue",
        approved_by="sue",
        lines=[{"sku": "SHOE-9", "qty": 2, "category": "footwear"}],
        note="two shoes, no paperwork",
    )
    rma = done.rma
    assert rma.code.startswith("BLIND-") and rma.stage == "received" and rma.lines[0].qty == 2
    event = store.events()[-1]
    assert (event.type, event.rma_code) == ("rma.blind_created", rma.code)
    assert event.payload["lines"] == [
        {"line_no": 1, "sku": "SHOE-9", "quantity": 2, "description": "", "category": "footwear"}
    ]
    assert event.payload["scanned"] == "NO-LABEL" and event.payload["approved_by"] == "sue"
    inspect_one(store, rma.code, 1)  # its items are inspected like any RMA's
    with pytest.raises(StoreError, match="already"):
        store.create_blind_rma("NO-LABEL", "bench-1", "sue", approved_by="sue")


# -- (c) undeclared items -------------------------------------------------------------------


def test_an_undeclared_item_gets_a_plate_and_goes_to_the_exceptions_bin(store):
    add_rma(store, "RMA-4")
    store.receive("RMA-4", "bench-1", "anna")
    photo = {"item": "undeclared", "sha256": "a" * 64, "path": "/p/a.jpg", "bytes": 10}
    item = store.record_undeclared("RMA-4", "5901234123457", "bench-1", "qc1", note="a second scarf", photos=[photo])
    event = store.events()[-1]
    assert (event.type, event.rma_code) == ("item.undeclared", "RMA-4")
    assert event.payload["barcode"] == "5901234123457" and event.payload["note"] == "a second scarf"
    assert [p["sha256"] for p in event.payload["photos"]] == ["a" * 64] and event.payload["lpn"] == item.lpn
    unit = store.unit_by_lpn(item.lpn.lower())
    assert (unit.rma_code, unit.channel, unit.bin) == ("RMA-4", "exceptions", "EXCEPTIONS")
    bins = {"EXCEPTIONS": {"exceptions"}, "RESTOCK": {"restock"}}
    with pytest.raises(PutAwayRefused, match="takes restock"):
        store.put_away(item.lpn, "RESTOCK", "bench-1", "anna", bins=bins)
    done = store.put_away(item.lpn, "EXCEPTIONS", "bench-1", "anna", bins=bins)
    assert done.bin == "EXCEPTIONS" and store.place_of(item.lpn).bin == "EXCEPTIONS"


def test_an_undeclared_item_needs_a_barcode_and_an_rma(store):
    with pytest.raises(StoreError, match="No RMA"):
        store.record_undeclared("RMA-X", "123", "bench-1", "qc1")
    add_rma(store, "RMA-4")
    with pytest.raises(StoreError, match="barcode"):
        store.record_undeclared("RMA-4", "  ", "bench-1", "qc1")
    assert store.events() == []
