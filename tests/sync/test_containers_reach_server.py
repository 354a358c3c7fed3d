"""container.registered/closed/moved/shipped and bin.counted travel to the real server and are held, none refused."""

from __future__ import annotations

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from tests.helpers.units import inspected_unit


def test_container_events_and_a_count_are_held_by_the_server(received_station):
    station, client = received_station(
        {"rma_code": "RMA-1", "status": "authorized", "lines": [{"sku": "ELC-2", "qty": 2}]}
    )
    a, b = (inspected_unit(station, "discounted", "b_stock", "B-GRADE") for _n in range(2))
    bins = bin_table(load_routing())
    station.register_container("TOTE-7", "tote", ["b_stock"], "A", "op1", bins=bins)
    station.put_away(a, "TOTE-7", "A", "op1", bins=bins)
    station.put_away(b, "TOTE-7", "A", "op1", bins=bins)
    counted = station.count_bin("TOTE-7", [a], "A", "op1", bins=bins)
    closed = station.close_container("TOTE-7", "A", "op1", bins=bins)
    moved = station.move_container("TOTE-7", "DOCK 3", "A", "op1", bins=bins)
    shipped = station.ship_container("TOTE-7", "", "A", "op1", bins=bins)
    client.sync(station)
    assert station.unsent_count() == 0
    assert station.conn.execute("SELECT count(*) FROM sync_rejections").fetchone()[0] == 0
    held = received_station.held(counted.event_id, closed.event_id, moved.event_id, shipped.event_id)
    assert held[counted.event_id]["missing"] == [b] and held[counted.event_id]["bin"] == "TOTE-7"
    assert held[closed.event_id] == {
        "container": "TOTE-7",
        "kind": "tote",
        "units": sorted([a, b]),
        "counts": {"b_stock": 2},
    }
    assert held[moved.event_id] == {"container": "TOTE-7", "to": "DOCK 3"}
    assert held[shipped.event_id] == {"container": "TOTE-7", "to": "DOCK 3", "units": sorted([a, b])}
