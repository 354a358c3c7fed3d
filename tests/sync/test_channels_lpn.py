"""Channels and license plates in the store: on the event, in the inspections table, found by plate."""

from __future__ import annotations

import sqlite3

import pytest

from sync.lpn import is_lpn
from sync.store import MIGRATIONS, Inspection, Store, StoreError

HASH, ROUTING_HASH = "ab" * 32, "cd" * 32


@pytest.fixture
def received(tmp_path):
    """RMA-1 (2 × earbuds worth 129.90), received."""
    store = Store(tmp_path / "station.db")
    with store.write() as conn:
        store.upsert_rma(
            conn,
            {"rma_code": "RMA-1", "status": "authorized", "reason": "defective"},
            [{"sku": "ELC-2", "gtin": "5901234123457", "qty": 2, "category": "consumer_electronics", "value": 129.9}],
        )
    store.receive("RMA-1", "dock-1", "anna")
    yield store
    store.close()


def inspection(**more) -> Inspection:
    fields = dict(
        rma_code="RMA-1",
        line_no=1,
        checklist_id="consumer_electronics",
        checklist_hash=HASH,
        answers=({"item": "powers_on", "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "critical"},),
        suggested="scrapped",
        final="scrapped",
        started_at="2026-11-21T10:00:00.000+00:00",
        channel="return_to_vendor",
        suggested_channel="return_to_vendor",
        bin="CLAIMS",
        routing_id="standard",
        routing_hash=ROUTING_HASH,
    )
    fields.update(more)
    return Inspection(**fields)


def test_the_line_value_is_kept_for_routing(received):
    assert received.get_rma("RMA-1").lines[0].value == pytest.approx(129.9)


def test_every_unit_gets_its_own_plate_on_the_event_and_in_the_table(received):
    first = received.save_inspection(inspection(), "bench-1", "qc1")
    second = received.save_inspection(inspection(), "bench-1", "qc1")
    assert is_lpn(first.lpn) and is_lpn(second.lpn) and first.lpn != second.lpn
    events = [e for e in received.events() if e.type == "item.inspected"]
    assert [e.payload["lpn"] for e in events] == [first.lpn, second.lpn]
    p = events[0].payload
    assert (p["channel"], p["suggested_channel"], p["channel_override"], p["bin"]) == (
        "return_to_vendor",
        "return_to_vendor",
        None,
        "CLAIMS",
    )
    assert p["routing"] == {"id": "standard", "hash": ROUTING_HASH}
    rows = received.inspections_of("RMA-1")
    assert [(r["lpn"], r["channel"], r["bin"], r["routing_hash"]) for r in rows] == [
        (first.lpn, "return_to_vendor", "CLAIMS", ROUTING_HASH),
        (second.lpn, "return_to_vendor", "CLAIMS", ROUTING_HASH),
    ]


def test_a_plate_finds_its_unit_in_any_case(received):
    saved = received.save_inspection(inspection(), "bench-1", "qc1")
    unit = received.unit_by_lpn(saved.lpn.lower())
    assert (unit.lpn, unit.rma_code, unit.line_no, unit.unit_no, unit.sku) == (saved.lpn, "RMA-1", 1, 1, "ELC-2")
    assert (unit.grade, unit.channel, unit.bin, unit.station) == ("scrapped", "return_to_vendor", "CLAIMS", "bench-1")
    assert received.unit_by_lpn("LP" + "0" * 18) is None  # well-formed, on no unit
    assert received.unit_by_lpn("RMA-1") is None


def test_a_changed_channel_is_recorded_with_its_reason(received):
    received.save_inspection(
        inspection(channel="refurbish", channel_reason="repair bench takes earbuds this week"), "bench-1", "qc1"
    )
    p = received.events()[-1].payload
    assert (p["suggested_channel"], p["channel"]) == ("return_to_vendor", "refurbish")
    assert p["channel_override"] == {"reason": "repair bench takes earbuds this week"}
    assert received.inspections_of("RMA-1")[0]["channel_reason"] == "repair bench takes earbuds this week"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(channel="recycle"), "changing the channel from return_to_vendor to recycle needs a reason"),
        (dict(channel="landfill", channel_reason="x"), "channel must be one of restock, b_stock"),
        (dict(routing_hash=""), "routing rules' id and content hash are missing"),
    ],
)
def test_refused_channels_write_nothing(received, change, message):
    before = received.last_seq()
    with pytest.raises(StoreError, match=message):
        received.save_inspection(inspection(**change), "bench-1", "qc1")
    assert received.last_seq() == before and received.inspections_of("RMA-1") == []


def test_the_database_refuses_an_unknown_channel_itself(received):
    received.save_inspection(inspection(), "bench-1", "qc1")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        received.conn.execute("UPDATE inspections SET channel = 'landfill'")


def test_a_database_from_before_channels_is_migrated_and_its_units_keep_no_plate(tmp_path):
    class Before(Store):
        migrations = MIGRATIONS[:6]

    path = tmp_path / "old.db"
    with Before(path) as old:
        # written as that version wrote it (today's upsert knows the value column)
        old.conn.execute(
            "INSERT INTO rmas (code, status, stage, updated_at) VALUES ('RMA-1', 'authorized', 'received', 't')"
        )
        old.conn.execute("INSERT INTO rma_lines (rma_code, line_no, sku, qty) VALUES ('RMA-1', 1, 'S', 2)")
        old.conn.execute(
            "INSERT INTO inspections (event_id, rma_code, line_no, unit_no, checklist_id, checklist_hash, suggested, "
            "final, station, inspector, started_at, ended_at) VALUES "
            "('e1', 'RMA-1', 1, 1, 'general', ?, 'resellable', 'resellable', 'b', 'qc1', 't', 't')",
            (HASH,),
        )
    with Store(path) as store:
        assert "007_channels_lpn" in {r[0] for r in store.conn.execute("SELECT name FROM _migrations")}
        [row] = store.inspections_of("RMA-1")
        assert (row["lpn"], row["channel"]) == (None, "")
        saved = store.save_inspection(inspection(checklist_id="general", channel="", suggested_channel=""), "b", "qc1")
        assert is_lpn(saved.lpn) and store.unit_by_lpn(saved.lpn).unit_no == 2
