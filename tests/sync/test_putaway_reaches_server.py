"""A unit.put_away event (and a move) travels to the real server and is accepted, not refused."""

from __future__ import annotations

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from sync.store import Inspection


def test_a_put_away_and_a_move_are_held_by_the_server(received_station):
    station, client = received_station(
        {"rma_code": "RMA-9", "status": "authorized", "lines": [{"sku": "SHOE-1", "qty": 1}]}
    )
    saved = station.save_inspection(
        Inspection(
            rma_code="RMA-9",
            line_no=1,
            checklist_id="footwear",
            checklist_hash="0" * 64,
            answers=({"item": "pair_matches", "kind": "pass_fail", "answer": "pass", "failed": False},),
            suggested="discounted",
            final="discounted",
            started_at="2026-11-21T10:00:00.000+00:00",
            channel="b_stock",
            suggested_channel="b_stock",
            bin="B-GRADE",
            routing_id="standard",
            routing_hash="1" * 64,
        ),
        "A",
        "op1",
    )
    bins = {**bin_table(load_routing()), "OUTLET": {"b_stock"}}
    first = station.put_away(saved.lpn, "B-GRADE", "A", "op1", bins=bins)
    moved = station.put_away(saved.lpn, "OUTLET", "A", "op1", bins=bins)
    client.sync(station)
    assert station.unsent_count() == 0
    assert station.conn.execute("SELECT count(*) FROM sync_rejections").fetchone()[0] == 0
    held = received_station.held(first.event_id, moved.event_id)
    assert held[first.event_id]["bin"] == "B-GRADE" and held[first.event_id]["lpn"] == saved.lpn
    assert (held[moved.event_id]["bin"], held[moved.event_id]["from"]) == ("OUTLET", "B-GRADE")
