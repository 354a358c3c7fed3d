"""A unit's license plate and channel travel on its item.inspected event to the real server."""

from __future__ import annotations

from sync.lpn import is_lpn
from sync.store import Inspection


def test_the_plate_and_channel_are_in_the_payload_the_server_holds(received_station):
    station, client = received_station(
        {"rma_code": "RMA-8", "status": "authorized", "lines": [{"sku": "SHOE-1", "qty": 1}]}
    )
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
    payload = received_station.held(saved.event_id)[saved.event_id]
    assert is_lpn(payload["lpn"]) and payload["lpn"] == saved.lpn
    assert (payload["channel"], payload["suggested_channel"], payload["bin"]) == ("donate", "restock", "DONATE")
    assert payload["channel_override"] == {"reason": "sample pair, charity"}
    assert payload["routing"] == {"id": "standard", "hash": "1" * 64}
