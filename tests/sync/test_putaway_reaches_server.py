"""A unit.put_away event (and a move) travels to the real server and is accepted, not refused."""

from __future__ import annotations

import json

import requests
import sqlalchemy as sa

from qc_checklists import load_routing
from qc_checklists.bins import bin_table
from server.db import events
from sync.client import SyncClient
from sync.store import Inspection


def test_a_put_away_and_a_move_are_held_by_the_server(sqlite_storage, sqlite_server, sqlite_tokens, make_station):
    record = {"rma_code": "RMA-9", "status": "authorized", "lines": [{"sku": "SHOE-1", "qty": 1}]}
    answer = requests.post(
        f"{sqlite_server.url}/api/v1/rmas",
        json={"rmas": [record]},
        headers={"Authorization": f"Bearer {sqlite_tokens['erp']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    station, client = make_station("A"), SyncClient(sqlite_server.url, sqlite_tokens["A"])
    client.sync(station)
    station.receive("RMA-9", "A", "op1")
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
    with sqlite_storage.db.read() as conn:
        rows = conn.execute(
            sa.select(events.c.event_id, events.c.payload).where(
                events.c.event_id.in_([first.event_id, moved.event_id])
            )
        ).all()
    held = {event_id: json.loads(payload) for event_id, payload in rows}
    assert held[first.event_id]["bin"] == "B-GRADE" and held[first.event_id]["lpn"] == saved.lpn
    assert (held[moved.event_id]["bin"], held[moved.event_id]["from"]) == ("OUTLET", "B-GRADE")
