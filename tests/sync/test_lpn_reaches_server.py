"""A unit's license plate and channel travel on its item.inspected event to the real server."""

from __future__ import annotations

import json

import requests
import sqlalchemy as sa

from server.db import events
from sync.client import SyncClient
from sync.lpn import is_lpn
from sync.store import Inspection


def test_the_plate_and_channel_are_in_the_payload_the_server_holds(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station
):
    record = {"rma_code": "RMA-8", "status": "authorized", "lines": [{"sku": "SHOE-1", "qty": 1}]}
    answer = requests.post(
        f"{sqlite_server.url}/api/v1/rmas",
        json={"rmas": [record]},
        headers={"Authorization": f"Bearer {sqlite_tokens['erp']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    station, client = make_station("A"), SyncClient(sqlite_server.url, sqlite_tokens["A"])
    client.sync(station)
    station.receive("RMA-8", "A", "op1")
    saved = station.save_inspection(
        Inspection(
            rma_code="RMA-8",
            line_no=1,
            checklist_id="footwear",
            checklist_hash="0" * 64,
            answers=(
                {"item": "pair_matches", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": None},
            ),
            suggested="resellable",
            final="resellable",
            started_at="2026-11-21T10:00:00.000+00:00",
            channel="donate",
            suggested_channel="restock",
            channel_reason="sample pair, charity",
            bin="DONATE",
            routing_id="standard",
            routing_hash="1" * 64,
        ),
        "A",
        "op1",
    )
    client.sync(station)
    assert station.unsent_count() == 0
    with sqlite_storage.db.read() as conn:
        payload = json.loads(
            conn.execute(sa.select(events.c.payload).where(events.c.event_id == saved.event_id)).scalar_one()
        )
    assert is_lpn(payload["lpn"]) and payload["lpn"] == saved.lpn
    assert (payload["channel"], payload["suggested_channel"], payload["bin"]) == ("donate", "restock", "DONATE")
    assert payload["channel_override"] == {"reason": "sample pair, charity"}
    assert payload["routing"] == {"id": "standard", "hash": "1" * 64}
