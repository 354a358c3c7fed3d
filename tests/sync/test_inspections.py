"""Inspections in the store: one event per unit with everything, in one transaction with the projection."""

from __future__ import annotations

import sqlite3

import pytest

from sync.store import Inspection, Store, StoreError

HASH = "ab" * 32


@pytest.fixture
def received(store):
    """RMA-1 (2 × sweater, 1 × earbuds), received at bench-1."""
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {"rma_code": "rma-1", "status": "authorized", "customer_name": "Eva Costa"},
            [
                {"sku": "APP-1", "gtin": "4006381333931", "qty": 2, "category": "apparel"},
                {"sku": "ELC-2", "gtin": "5901234123457", "qty": 1, "category": "consumer_electronics"},
            ],
        )
        store.upsert_rma(conn, {"rma_code": "rma-2", "status": "authorized"}, [{"sku": "X", "qty": 1}])
    store.receive("RMA-1", "bench-1", "anna")
    return store


def inspection(line_no=1, suggested="resellable", final="resellable", **more):
    answers = (
        {"item": "stains", "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "major"},
        {"item": "tags_attached", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None},
    )
    fields = dict(
        rma_code="RMA-1",
        line_no=line_no,
        checklist_id="apparel",
        checklist_hash=HASH,
        answers=answers,
        suggested=suggested,
        final=final,
        started_at="2026-11-21T10:00:00.000+00:00",
        why=("any major fail: stains",),
        scanned="0104006381333931\x1d21SN-7",
        gtin="04006381333931",
        serial="SN-7",
        lot="L1",
        expiry="2027-01-31",
        photos=({"item": "stains", "sha256": "cd" * 32, "path": "/photos/a.jpg", "bytes": 1234},),
    )
    fields.update(more)
    return Inspection(**fields)


def test_the_event_carries_everything(received):
    saved = received.save_inspection(
        inspection(
            suggested="discounted",
            final="scrapped",
            override_reason="defect worse than checklist",
            override_note="bleach stain across the back",
        ),
        "bench-2",
        "qc1",
    )
    event = received.events()[-1]
    assert (event.seq, event.id, event.type) == (saved.event_seq, saved.event_id, "item.inspected")
    assert (event.station, event.operator, event.rma_code) == ("bench-2", "qc1", "RMA-1")
    p = event.payload
    assert p["checklist"] == {"id": "apparel", "hash": HASH}
    assert p["answers"][0] == {
        "item": "stains",
        "kind": "pass_fail",
        "answer": "fail",
        "failed": True,
        "severity": "major",
    }
    assert (p["suggested"], p["final"]) == ("discounted", "scrapped")
    assert p["override"] == {"reason": "defect worse than checklist", "note": "bleach stain across the back"}
    assert p["photos"] == [{"item": "stains", "sha256": "cd" * 32, "path": "/photos/a.jpg", "bytes": 1234}]
    assert (p["inspector"], p["station"]) == ("qc1", "bench-2")
    assert p["started_at"] == "2026-11-21T10:00:00.000+00:00" and p["ended_at"] == event.at
    assert (p["gtin"], p["serial"], p["lot"], p["expiry"]) == ("04006381333931", "SN-7", "L1", "2027-01-31")
    assert (p["line_no"], p["unit_no"], p["sku"], p["category"]) == (1, 1, "APP-1", "apparel")
    assert p["why"] == ["any major fail: stains"]
    row = received.inspections_of("rma-1")[0]
    assert (row["event_id"], row["final"], row["failed_items"], row["override_reason"]) == (
        event.id,
        "scrapped",
        "stains",
        "defect worse than checklist",
    )


def test_no_camera_exception_is_recorded(received):
    received.save_inspection(
        inspection(photos=({"item": "stains", "exception": "no camera at this station"},)), "bench-2", "qc1"
    )
    assert received.events()[-1].payload["photos"] == [{"item": "stains", "exception": "no camera at this station"}]


def test_stage_moves_to_inspected_when_every_unit_is_done(received):
    first = received.save_inspection(inspection(1), "b", "qc1")
    assert (first.unit_no, first.line_done, first.rma_done, first.rma.stage) == (1, False, False, "received")
    second = received.save_inspection(inspection(1, "discounted", "discounted"), "b", "qc1")
    assert (second.unit_no, second.line_done, second.rma_done) == (2, True, False)
    last = received.save_inspection(inspection(2, "scrapped", "scrapped"), "b", "qc1")
    assert last.rma_done and last.rma.stage == "inspected"
    assert [e.type for e in received.events()[-2:]] == ["item.inspected", "rma.inspected"]
    assert received.events()[-1].payload["lines"] == [
        {"line_no": 1, "sku": "APP-1", "qty": 2, "dispositions": ["resellable", "discounted"]},
        {"line_no": 2, "sku": "ELC-2", "qty": 1, "dispositions": ["scrapped"]},
    ]
    assert received.inspection_progress("RMA-1") == {1: ("resellable", "discounted"), 2: ("scrapped",)}
    assert received.dispositions_since("2000-01-01") == {"resellable": 1, "discounted": 1, "scrapped": 1}
    assert received.dispositions_since("2000-01-01", station="other") == {}
    assert received.waiting_for_inspection() == []


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(rma_code="RMA-2"), "RMA-2 is not received yet; receive it first"),
        (dict(rma_code="RMA-9"), "no RMA RMA-9"),
        (dict(line_no=7), "has no line 7"),
        (dict(final="scrapped"), "overriding resellable with scrapped needs a reason"),
        (dict(final="binned"), "disposition must be one of"),
        (dict(checklist_hash=""), "checklist id and content hash are missing"),
        (dict(photos=({"item": "stains", "path": "/x.jpg"},)), "a photo needs its content hash"),
    ],
)
def test_refused_inspections_write_nothing(received, change, message):
    before = received.last_seq()
    with pytest.raises(StoreError, match=message):
        received.save_inspection(inspection(**change), "b", "qc1")
    assert received.last_seq() == before and received.inspections_of("RMA-1") == []


def test_a_done_line_is_refused(received):
    received.save_inspection(inspection(2), "b", "qc1")
    with pytest.raises(StoreError, match=r"line 2 of RMA-1 .* is inspected already"):
        received.save_inspection(inspection(2), "b", "qc1")


def test_event_and_projection_are_one_transaction(received, db_path):
    # A second connection holds the write lock: the save fails whole, nothing half-written.
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with Store(db_path, busy_timeout_ms=50) as other, pytest.raises(StoreError, match="locked"):
            other.save_inspection(inspection(), "b", "qc1")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert received.inspections_of("RMA-1") == [] and received.events()[-1].type == "rma.received"


def test_mismatch_is_recorded(received):
    seq = received.record_mismatch(
        "rma-1", "0104012345678901\x1d21X9", "bench-2", "qc1", gtin="04012345678901", serial="X9"
    )
    event = received.events()[-1]
    assert (event.seq, event.type, event.rma_code) == (seq, "item.mismatch", "RMA-1")
    assert event.payload["gtin"] == "04012345678901" and event.payload["serial"] == "X9"
    assert event.payload["expected_gtins"] == ["4006381333931", "5901234123457"]
    assert received.counts_since("2000-01-01")["item.mismatch"] == 1


def test_receipt_with_inspections_cannot_be_undone(received):
    received.save_inspection(inspection(), "b", "qc1")
    with pytest.raises(StoreError, match="has inspected items"):
        received.undo_receive("RMA-1", "b", "anna")


def test_serial_seen_before(received):
    assert received.serial_inspected_before("04006381333931", "SN-7") is None
    received.save_inspection(inspection(), "b", "qc1")
    assert received.serial_inspected_before("04006381333931", "SN-7") == "RMA-1"
    assert received.serial_inspected_before("04006381333931", "") is None
