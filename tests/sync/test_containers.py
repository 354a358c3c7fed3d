"""Containers in the store: label, close, move, ship (one event each), counts; every refusal records nothing."""

from __future__ import annotations

import pytest

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from sync.lpn import new_lpn
from sync.store import (
    MIGRATIONS,
    ContainerRefusal,
    ContainerRefused,
    PutAwayRefused,
    Refusal,
    Store,
)
from tests.helpers.units import inspected_unit, received_rma

BINS = bin_table(load_routing())  # the standard routing: RESTOCK takes restock, B-GRADE b_stock, ...


@pytest.fixture
def store(tmp_path):
    """RMA-1 (3 × earbuds), received; units inspected by inspected()."""
    store = Store(tmp_path / "station.db")
    received_rma(store, qty=3)
    yield store
    store.close()


def inspected(store: Store, final: str = "discounted", channel: str = "b_stock", bin: str = "B-GRADE") -> str:
    return inspected_unit(store, final, channel, bin)


def events_of(store: Store, type_: str) -> list[dict]:
    return [e.payload for e in store.events() if e.type == type_]


def outbox_size(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


def test_the_migration_is_named_011_containers():
    assert "011_containers" in [name for name, _step in MIGRATIONS]


def test_closing_records_the_contents_and_counts_per_channel_and_refuses_put_away_into_it(store):
    a, b = inspected(store), inspected(store)
    store.put_away(a, "B-GRADE", "zone-1", "li", bins=BINS)
    store.put_away(b, "B-GRADE", "zone-1", "li", bins=BINS)
    closed = store.close_container("b-grade", "zone-1", "li", bins=BINS)
    assert closed.container.closed and [c.lpn for c in closed.container.contents] == sorted([a, b])
    assert events_of(store, "container.closed") == [
        {"container": "B-GRADE", "kind": "bin", "units": sorted([a, b]), "counts": {"b_stock": 2}}
    ]
    c = inspected(store)
    before = outbox_size(store)
    with pytest.raises(PutAwayRefused) as refused:
        store.put_away(c, "B-GRADE", "zone-1", "li", bins=BINS)
    assert refused.value.refusal == Refusal.CLOSED and "B-GRADE is closed" in str(refused.value)
    assert outbox_size(store) == before and store.place_of(c) is None


def test_a_unit_in_a_closed_container_is_not_taken_out_of_it(store):
    a = inspected(store)
    store.put_away(a, "B-GRADE", "zone-1", "li", bins=BINS)
    store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    bins = {**BINS, "OUTLET": {"b_stock"}}
    with pytest.raises(PutAwayRefused) as refused:
        store.put_away(a, "OUTLET", "zone-1", "li", bins=bins)
    assert refused.value.refusal == Refusal.CLOSED and f"{a} is in B-GRADE, which is closed" in str(refused.value)
    assert store.place_of(a).bin == "B-GRADE"


@pytest.mark.parametrize(
    ("name", "setup", "refusal", "words"),
    [
        ("NOWHERE", False, ContainerRefusal.UNKNOWN, "no bin or container NOWHERE at this station"),
        ("B-GRADE", False, ContainerRefusal.EMPTY, "B-GRADE is empty"),
        ("B-GRADE", True, ContainerRefusal.CLOSED, "B-GRADE is closed already"),
    ],
)
def test_closing_is_refused_for_an_unknown_an_empty_or_a_closed_container(store, name, setup, refusal, words):
    if setup:
        store.put_away(inspected(store), "B-GRADE", "zone-1", "li", bins=BINS)
        store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    before = outbox_size(store)
    with pytest.raises(ContainerRefused) as refused:
        store.close_container(name, "zone-1", "li", bins=BINS)
    assert refused.value.refusal == refusal and words in str(refused.value)
    assert outbox_size(store) == before


def test_moving_and_shipping_are_events_and_the_units_leave_the_building(store):
    a, b = inspected(store), inspected(store)
    for lpn in (a, b):
        store.put_away(lpn, "B-GRADE", "zone-1", "li", bins=BINS)
    with pytest.raises(ContainerRefused) as open_one:
        store.ship_container("B-GRADE", "OUTLET-SH", "zone-1", "li", bins=BINS)
    assert open_one.value.refusal == ContainerRefusal.OPEN and "close it first" in str(open_one.value)
    store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    with pytest.raises(ContainerRefused) as nowhere:
        store.ship_container("B-GRADE", "", "zone-1", "li", bins=BINS)
    assert nowhere.value.refusal == ContainerRefusal.NO_DESTINATION
    moved = store.move_container("B-GRADE", "dock 3", "zone-1", "li", bins=BINS)
    assert moved.container.location == "DOCK 3"
    assert events_of(store, "container.moved") == [{"container": "B-GRADE", "to": "DOCK 3"}]
    shipped = store.ship_container("B-GRADE", "", "zone-1", "li", bins=BINS)  # to where it was moved
    assert events_of(store, "container.shipped") == [{"container": "B-GRADE", "to": "DOCK 3", "units": sorted([a, b])}]
    closed_event = next(e for e in store.events() if e.type == "container.closed")
    assert next(e for e in store.events() if e.type == "container.shipped").refers_to == closed_event.id
    assert shipped.to == "DOCK 3"
    after = store.container("B-GRADE", bins=BINS)
    assert after.contents == () and not after.closed and after.location == ""  # empty and open, for the next load
    with pytest.raises(PutAwayRefused) as gone:
        store.put_away(a, "B-GRADE", "zone-1", "li", bins=BINS)
    assert gone.value.refusal == Refusal.SHIPPED and "left the building in B-GRADE to DOCK 3" in str(gone.value)
    c = inspected(store)
    assert store.put_away(c, "B-GRADE", "zone-1", "li", bins=BINS).bin == "B-GRADE"  # the next load


def test_a_labelled_tote_takes_its_channels_and_is_a_container_of_its_kind(store):
    with pytest.raises(ContainerRefused) as no_channel:
        store.register_container("TOTE-7", "tote", [], "zone-1", "li", bins=BINS)
    assert no_channel.value.refusal == ContainerRefusal.UNKNOWN and "--takes" in str(no_channel.value)
    with pytest.raises(ContainerRefused) as bad_kind:
        store.register_container("TOTE-7", "crate", ["b_stock"], "zone-1", "li", bins=BINS)
    assert bad_kind.value.refusal == ContainerRefusal.BAD_KIND
    with pytest.raises(ContainerRefused) as bad_channel:
        store.register_container("TOTE-7", "tote", ["bstock"], "zone-1", "li", bins=BINS)
    assert bad_channel.value.refusal == ContainerRefusal.BAD_CHANNEL
    assert outbox_size(store) == 1  # the receipt only
    tote = store.register_container("tote-7", "tote", ["b_stock", "donate"], "zone-1", "li", bins=BINS)
    assert (tote.name, tote.kind, tote.takes) == ("TOTE-7", "tote", ("b_stock", "donate"))
    again = store.register_container("TOTE-7", None, ["donate"], "zone-1", "li", bins=BINS)
    assert (again.kind, again.takes) == ("tote", ("b_stock", "donate"))  # no kind given: the one recorded
    assert events_of(store, "container.registered") == [
        {"container": "TOTE-7", "kind": "tote", "takes": ["b_stock", "donate"]}
    ]  # the second label changed nothing: no second event
    a = inspected(store)
    assert store.put_away(a, "TOTE-7", "zone-1", "li", bins=BINS).bin == "TOTE-7"
    with pytest.raises(PutAwayRefused) as wrong:
        store.put_away(inspected(store, "resellable", "restock", "RESTOCK"), "TOTE-7", "zone-1", "li", bins=BINS)
    assert wrong.value.refusal == Refusal.WRONG_BIN
    closed = store.close_container("TOTE-7", "zone-1", "li", bins=BINS)
    assert events_of(store, "container.closed")[0]["kind"] == "tote" and closed.container.kind == "tote"


def test_a_count_lists_missing_and_extra_units_and_is_one_event(store):
    a, b, c = inspected(store), inspected(store), inspected(store)
    store.put_away(a, "B-GRADE", "zone-1", "li", bins=BINS)
    store.put_away(b, "B-GRADE", "zone-1", "li", bins=BINS)
    stranger = new_lpn()
    counted = store.count_bin("b-grade", [a.lower(), stranger, a, c], "zone-1", "li", bins=BINS)
    assert counted.missing == (b,) and counted.extra == (stranger, c) and counted.found == (a, stranger, c)
    assert events_of(store, "bin.counted") == [
        {
            "bin": "B-GRADE",
            "expected": sorted([a, b]),
            "found": [a, stranger, c],
            "missing": [b],
            "extra": [stranger, c],
        }
    ]
    assert store.last_count("B-GRADE").missing == (b,)
    assert store.place_of(b).bin == "B-GRADE"  # a count reports; it moves nothing


@pytest.mark.parametrize(
    ("name", "found", "refusal"),
    [("NOWHERE", [], ContainerRefusal.UNKNOWN), ("B-GRADE", ["5901234123457"], ContainerRefusal.NOT_A_PLATE)],
)
def test_a_count_is_refused_for_an_unknown_bin_or_a_scan_that_is_no_plate(store, name, found, refusal):
    before = outbox_size(store)
    with pytest.raises(ContainerRefused) as refused:
        store.count_bin(name, found, "zone-1", "li", bins=BINS)
    assert refused.value.refusal == refusal and outbox_size(store) == before


def test_sort_mode_skips_a_closed_bin_and_says_when_the_unit_is_there_already(store):
    a, b = inspected(store), inspected(store)
    store.put_away(a, "B-GRADE", "zone-1", "li", bins=BINS)
    assert store.sort_bin(store.unit_by_lpn(a), bins=BINS) == ("B-GRADE", True)
    assert store.sort_bin(store.unit_by_lpn(b), bins=BINS) == ("B-GRADE", False)
    store.register_container("GAYLORD-2", "gaylord", ["b_stock"], "zone-1", "li", bins=BINS)
    store.close_container("B-GRADE", "zone-1", "li", bins=BINS)
    assert store.sort_bin(store.unit_by_lpn(b), bins=BINS) == ("GAYLORD-2", False)
