"""Receiving against a real SQLite file: every outcome, and what each leaves in the database."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from sync.store import DatabaseBusy, Outcome, Store, StoreError
from tests.conftest import add_rma


def outbox(store: Store) -> list[tuple[str, str, dict]]:
    return [(e.type, e.rma_code, e.payload) for e in store.events()]


def test_receive_records_one_event_and_marks_the_rma(store):
    add_rma(store, "RMA-1", customer="Karin Larsen")
    receipt = store.receive("RMA-1", "bench-1", "anna")
    assert receipt.outcome is Outcome.RECEIVED
    assert receipt.rma.customer_name == "Karin Larsen"
    assert receipt.rma.stage == "received"
    assert receipt.rma.received_station == "bench-1" and receipt.rma.received_operator == "anna"
    events = store.events()
    assert [(e.type, e.rma_code, e.station, e.operator) for e in events] == [
        ("rma.received", "RMA-1", "bench-1", "anna")
    ]
    assert receipt.event_seq == events[0].seq


def test_second_scan_is_already_received_and_counted_once(store):
    add_rma(store, "RMA-1")
    store.receive("RMA-1", "bench-1", "anna")
    again = store.receive("rma-1", "bench-2", "ben")
    assert again.outcome is Outcome.ALREADY_RECEIVED
    # where, when and by whom it was received first
    assert (again.rma.received_station, again.rma.received_operator) == ("bench-1", "anna")
    assert [t for t, _, _ in outbox(store)] == ["rma.received"]


def test_unknown_code_is_recorded_as_unexpected_parcel(store):
    receipt = store.receive("NOPE-42", "bench-1", "anna")
    assert receipt.outcome is Outcome.NOT_EXPECTED
    assert outbox(store) == [("parcel.unexpected", None, {"scanned": "NOPE-42"})]
    row = store.conn.execute("SELECT scanned, station, operator FROM unexpected_parcels").fetchone()
    assert row == ("NOPE-42", "bench-1", "anna")


@pytest.mark.parametrize("status, outcome", [("cancelled", Outcome.CANCELLED), ("expired", Outcome.EXPIRED)])
def test_cancelled_and_expired_are_not_received(store, status, outcome):
    add_rma(store, "RMA-9", status=status)
    receipt = store.receive("RMA-9", "bench-1", "anna")
    assert receipt.outcome is outcome
    assert store.get_rma("RMA-9").stage == "expected"
    assert [t for t, _, _ in outbox(store)] == ["parcel.refused"]


def test_item_barcode_that_matches_nothing_is_not_an_rma_and_records_nothing(store):
    receipt = store.receive("4006381333931", "bench-1", "anna", item_barcode=True)
    assert receipt.outcome is Outcome.NOT_AN_RMA
    assert store.events() == []


def test_tracking_number_is_found_behind_a_carrier_routing_prefix(store):
    # USPS IMpb: "420" + ZIP, then the 22-digit tracking number.
    add_rma(store, "RMA-7", tracking=("9400 1112 0206 7890 1234 56",))
    found = store.receive("4209021094001112020678901234 56".replace(" ", ""), "b", "o")
    assert found.outcome is Outcome.RECEIVED and found.matched_by == "tracking number"
    assert found.rma.code == "RMA-7"


def test_ups_tracking_number_matches_case_insensitively(store):
    add_rma(store, "RMA-8", tracking=("1Z999AA10123456784",))
    assert store.find_rma("1z999aa10123456784")[0].code == "RMA-8"


def test_partial_tracking_number_does_not_match(store):
    add_rma(store, "RMA-8", tracking=("1Z999AA10123456784",))
    # the scan ends in the same 10 characters but is not the whole number
    assert store.find_rma("1Z999XX10123456784") is None


def test_order_reference_finds_the_rma(store):
    add_rma(store, "RMA-5", order_ref="SO-554433")
    rma, matched_by = store.find_rma("so-554433")
    assert (rma.code, matched_by) == ("RMA-5", "order reference")


def test_undo_is_a_compensating_event_and_the_parcel_can_be_received_again(store):
    add_rma(store, "RMA-1")
    store.receive("RMA-1", "bench-1", "anna")
    original = store.events()[0]
    assert store.last_receipt("bench-1").code == "RMA-1"
    store.undo_receive("RMA-1", "bench-1", "anna")
    undo = store.events()[-1]
    assert (undo.type, undo.refers_to) == ("rma.receive_undone", original.id)
    assert store.get_rma("RMA-1").stage == "expected"
    assert store.last_receipt("bench-1") is None
    assert store.receive("RMA-1", "bench-1", "anna").outcome is Outcome.RECEIVED
    with pytest.raises(StoreError):
        store.undo_receive("RMA-404", "bench-1", "anna")


def test_outbox_refuses_edits_and_deletes(store):
    add_rma(store, "RMA-1")
    store.receive("RMA-1", "bench-1", "anna")
    with pytest.raises(sqlite3.IntegrityError, match="never edited"):
        store.conn.execute("UPDATE outbox SET operator = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        store.conn.execute("DELETE FROM outbox")
    assert store.events()[0].operator == "anna"


def test_reimport_updates_the_replica_but_keeps_the_receipt(store):
    add_rma(store, "RMA-1", customer="Old Name")
    store.receive("RMA-1", "bench-1", "anna")
    add_rma(store, "RMA-1", customer="New Name")
    rma = store.get_rma("RMA-1")
    assert (rma.customer_name, rma.stage) == ("New Name", "received")


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE rmas; --",
        "RMA-1' OR '1'='1",
        "Ünïcödé ✓ 📦",
        "x" * 256,
        "\u202eRMA-1",
    ],
)
def test_hostile_scans_are_just_unexpected_parcels(store, text):
    add_rma(store, "RMA-1")
    receipt = store.receive(text, "bench-1", "anna")
    assert receipt.outcome is Outcome.NOT_EXPECTED
    assert store.get_rma("RMA-1").stage == "expected"
    assert store.events()[-1].payload == {"scanned": text}


def test_unsent_count_follows_the_outbox_and_the_ack(store):
    add_rma(store, "RMA-1")
    store.receive("RMA-1", "b", "o")
    store.receive("X", "b", "o")
    assert store.unsent_count() == 2
    with store.write() as conn:
        store.set_state(conn, "acked_seq", str(store.events()[0].seq))
    assert store.unsent_count() == 1


def test_locked_database_gives_a_clear_error_and_loses_nothing(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
        add_rma(store, "RMA-2")
        store.receive("RMA-1", "b", "o")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with (
            Store(db_path, busy_timeout_ms=200) as store,
            pytest.raises(DatabaseBusy, match="locked by another program"),
        ):
            store.receive("RMA-2", "b", "o")
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Store(db_path) as store:
        assert [e.type for e in store.events()] == ["rma.received"]
        assert store.get_rma("RMA-2").stage == "expected"
        assert store.receive("RMA-2", "b", "o").outcome is Outcome.RECEIVED


def test_lock_released_in_time_lets_the_write_through(db_path):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.2, lambda: other.execute("ROLLBACK")).start()
    with Store(db_path, busy_timeout_ms=5000) as store:
        assert store.receive("RMA-1", "b", "o").outcome is Outcome.RECEIVED
    other.close()


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nope" / "station.db")


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "station.db"
    path.write_bytes(b"this is a spreadsheet, not SQLite" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store(path)


def test_event_payload_is_json_with_station_clock(store):
    store.receive("ZZZ", "bench-1", "anna")
    row = store.conn.execute("SELECT id, at, payload FROM outbox").fetchone()
    assert len(row[0]) == 36 and row[1].endswith("+00:00")
    assert json.loads(row[2]) == {"scanned": "ZZZ"}


@pytest.fixture
def read_only(tmp_path):
    """Make a file read-only in a way that holds even for root (CI runs as root)."""
    import os
    import subprocess

    made = []

    def make(path):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i", str(path)], check=True)
        else:
            path.chmod(0o444)
        made.append(path)

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(0o644)


def test_read_only_database_gives_a_clear_error_and_keeps_what_is_there(db_path, read_only):
    with Store(db_path) as store:
        add_rma(store, "RMA-1")
        add_rma(store, "RMA-2")
        store.receive("RMA-1", "b", "o")
    read_only(db_path)
    with pytest.raises(StoreError, match="read-only"), Store(db_path) as store:
        store.receive("RMA-2", "b", "o")
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT type FROM outbox").fetchall() == [("rma.received",)]
