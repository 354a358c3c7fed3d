"""Put-away in the store: a unit into a bin that takes its channel, one transaction, one event; every refusal."""

from __future__ import annotations

import pytest

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from sync.lpn import new_lpn
from sync.store import MIGRATIONS, PutAwayRefused, Refusal, Store
from tests.helpers.units import inspected_unit, received_rma

BINS = bin_table(load_routing())  # the standard routing: RESTOCK takes restock, B-GRADE b_stock, ...


@pytest.fixture
def store(tmp_path):
    """RMA-1 (2 × earbuds), received; unit 1 inspected resellable (restock), unit 2 discounted (b_stock)."""
    store = Store(tmp_path / "station.db")
    received_rma(store, qty=2)
    yield store
    store.close()


def inspected(store: Store, final: str, channel: str, bin: str) -> str:
    return inspected_unit(store, final, channel, bin)


def test_the_migration_is_named_010_putaway():
    assert "010_putaway" in [name for name, _step in MIGRATIONS]  # (later migrations follow it)


def test_the_standard_bins_take_the_channels_whose_bin_they_are():
    assert BINS["RESTOCK"] == {"restock"} and BINS["B-GRADE"] == {"b_stock"} and BINS["CLAIMS"] == {"return_to_vendor"}


def test_a_station_bin_takes_its_channels_and_a_bad_channel_is_one_line():
    table = bin_table(load_routing(), {"b-grade 2": ["b_stock"], "RESTOCK": ["donate"]})
    assert table["B-GRADE 2"] == {"b_stock"} and table["RESTOCK"] == {"restock", "donate"}
    with pytest.raises(ValueError, match="unknown channel 'resale'"):
        bin_table(load_routing(), {"X": ["resale"]})


def test_put_away_updates_where_the_unit_is_and_appends_one_event_together(store):
    lpn = inspected(store, "resellable", "restock", "RESTOCK")
    before = store.last_seq()
    done = store.put_away(lpn.lower(), "restock", "zone-1", "pat", bins=BINS)
    assert (done.bin, done.from_bin, done.unit.lpn) == ("RESTOCK", "", lpn)
    events = store.events(after_seq=before)
    assert [e.type for e in events] == ["unit.put_away"]
    assert events[0].payload == {
        "lpn": lpn,
        "bin": "RESTOCK",
        "channel": "restock",
        "rma": "RMA-1",
        "line": 1,
        "unit": 1,
        "from": None,
    }
    assert (events[0].station, events[0].operator, events[0].rma_code) == ("zone-1", "pat", "RMA-1")
    place = store.place_of(lpn)
    assert (place.bin, place.channel, place.event_id, place.operator) == ("RESTOCK", "restock", done.event_id, "pat")
    assert [p.lpn for p in store.units_in("RESTOCK")] == [lpn]


def test_a_move_to_another_bin_is_a_new_event_that_refers_to_the_last(store):
    lpn = inspected(store, "discounted", "b_stock", "B-GRADE")
    bins = {**BINS, "OUTLET": {"b_stock"}}
    first = store.put_away(lpn, "B-GRADE", "zone-1", "pat", bins=bins)
    moved = store.put_away(lpn, "OUTLET", "zone-1", "pat", bins=bins)
    assert (moved.from_bin, moved.bin) == ("B-GRADE", "OUTLET")
    events = [e for e in store.events() if e.type == "unit.put_away"]
    assert [e.payload["bin"] for e in events] == ["B-GRADE", "OUTLET"]
    assert events[1].payload["from"] == "B-GRADE" and events[1].refers_to == first.event_id
    assert store.place_of(lpn).bin == "OUTLET" and store.units_in("B-GRADE") == []


def refused(store: Store, lpn: str, bin: str, bins=BINS) -> PutAwayRefused:
    seq = store.last_seq()
    with pytest.raises(PutAwayRefused) as caught:
        store.put_away(lpn, bin, "zone-1", "pat", bins=bins)
    assert store.last_seq() == seq  # nothing recorded
    assert "\n" not in str(caught.value)
    return caught.value


def test_a_bin_of_another_channel_is_refused_naming_the_right_bin(store):
    lpn = inspected(store, "resellable", "restock", "RESTOCK")
    refusal = refused(store, lpn, "B-GRADE")
    assert refusal.refusal == Refusal.WRONG_BIN
    assert str(refusal) == f"Bin B-GRADE takes b_stock, not restock: put {lpn} in RESTOCK"
    assert store.place_of(lpn) is None


def test_a_unit_already_in_that_bin_is_said_and_nothing_recorded(store):
    lpn = inspected(store, "resellable", "restock", "RESTOCK")
    store.put_away(lpn, "RESTOCK", "zone-1", "pat", bins=BINS)
    refusal = refused(store, lpn, " restock ")
    assert refusal.refusal == Refusal.ALREADY_THERE
    assert str(refusal).startswith(f"{lpn} is in RESTOCK already")


def test_text_that_is_no_plate_is_refused(store):
    refusal = refused(store, "LP123", "RESTOCK")
    assert refusal.refusal == Refusal.NOT_A_PLATE and "LP123 is not a license plate" in str(refusal)


def test_a_plate_on_no_inspected_unit_is_refused(store):
    plate = new_lpn()  # well-formed, with its check character, but printed for no unit here
    refusal = refused(store, plate, "RESTOCK")
    assert (
        refusal.refusal == Refusal.NOT_INSPECTED and plate in str(refusal) and "inspect the unit first" in str(refusal)
    )


def test_a_bin_the_station_does_not_have_is_refused(store):
    lpn = inspected(store, "resellable", "restock", "RESTOCK")
    refusal = refused(store, lpn, "SHELF-9")
    assert refusal.refusal == Refusal.UNKNOWN_BIN and "No bin SHELF-9" in str(refusal) and "RESTOCK" in str(refusal)


def test_a_unit_inspected_before_channels_is_refused(store):
    lpn = inspected(store, "resellable", "restock", "RESTOCK")
    with store.write() as conn:  # as a unit inspected before 007_channels_lpn gave units a channel
        conn.execute("UPDATE inspections SET channel = '', bin = '' WHERE lpn = ?", (lpn,))
    assert refused(store, lpn, "RESTOCK").refusal == Refusal.NO_CHANNEL
