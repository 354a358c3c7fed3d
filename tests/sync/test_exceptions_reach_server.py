"""The exceptions' events travel to the real server, are accepted, and stand in each RMA's timeline; the same
parcel received at two stations is still a received_twice conflict, another parcel of the RMA is none."""

from __future__ import annotations

import json

import requests
import sqlalchemy as sa

from server.hooks.admin import add_endpoint
from server.hooks.outbox import deliveries
from sync.client import SyncClient


def test_exception_events_are_held_and_shown_in_the_timeline(storage, server, tokens, make_station):
    erp = {"Authorization": f"Bearer {tokens['erp']}"}
    # an ERP endpoint (that never answers: the deliveries wait in the server's outbox, which is what is checked)
    add_endpoint(storage.db, "http://127.0.0.1:9/hook", "receipt,inspection", "whsec_" + "c2VjcmV0" * 6)
    records = [
        {
            "rma_code": "RMA-9",
            "status": "authorized",
            "tracking_numbers": ["SF1023574470215", "SF1023574470223", "SF1023574470231"],
            "lines": [{"sku": "SHOE-1", "qty": 1}, {"sku": "LACE-2", "qty": 2}],
        },
        {"rma_code": "RMA-10", "status": "authorized", "lines": [{"sku": "CAP-1", "qty": 1}]},
        {
            "rma_code": "RMA-11",
            "status": "authorized",
            "tracking_numbers": ["JDVA11408814483"],
            "lines": [{"sku": "CAP-2", "qty": 1}],
        },
    ]
    answer = requests.post(f"{server.url}/api/v1/rmas", json={"rmas": records}, headers=erp, timeout=10)
    assert answer.status_code == 200, answer.text
    station, client = make_station("A"), SyncClient(server.url, tokens["A"])
    station.add_operator("sue", role="supervisor")
    client.sync(station)
    station.receive("SF1023574470215", "A", "ben")
    assert station.receive("SF1023574470223", "A", "ben").parcel_no == 2
    station.close_not_received("RMA-9", 2, "A", "qc1")
    undeclared = station.record_undeclared("RMA-9", "4012345678901", "A", "qc1", note="a cap")
    station.receive("TORN-1", "A", "ben")
    station.receive("TORN-2", "A", "ben")
    station.attach_parcel("TORN-1", "RMA-10", "A", "ben", approved_by="sue")
    blind = station.create_blind_rma("TORN-2", "A", "sue", approved_by="sue")
    client.sync(station)
    assert station.unsent_count() == 0 and station.sync_rejections() == []

    def timeline(code: str) -> dict:
        found = requests.get(f"{server.url}/api/v1/rmas/{code}", headers=erp, timeout=10)
        assert found.status_code == 200, found.text
        return found.json()

    nine = timeline("RMA-9")
    steps = {step["what"]: step for step in nine["timeline"]}
    assert {"rma.received", "rma.parcel_received", "line.not_received", "item.undeclared"} <= steps.keys()
    assert steps["rma.parcel_received"]["detail"]["parcel_no"] == 2
    assert steps["line.not_received"]["detail"] == {
        "rma_code": "RMA-9",
        "line_no": 2,
        "sku": "LACE-2",
        "units": 2,
        "quantity": 2,
        "expected": 2,
    }
    assert steps["item.undeclared"]["detail"]["lpn"] == undeclared.lpn
    assert nine["stage"] == "received" and nine["conflicts"] == []  # a second parcel is no second receipt
    ten = timeline("RMA-10")
    assert [s["what"] for s in ten["timeline"] if "." in s["what"]] == ["parcel.attached", "rma.received"]
    assert ten["stage"] == "received"
    made = timeline(blind.rma.code)
    assert [s["what"] for s in made["timeline"]] == ["rma.blind_created"]
    assert made["timeline"][0]["detail"]["approved_by"] == "sue"
    with storage.db.read() as conn:
        hooked = {
            json.loads(body)["data"]["event"]: kind
            for kind, body in conn.execute(sa.select(deliveries.c.kind, deliveries.c.body))
        }
    assert (
        hooked.items()
        >= {
            "rma.parcel_received": "receipt",
            "parcel.attached": "receipt",
            "rma.blind_created": "receipt",
            "line.not_received": "inspection",
            "item.undeclared": "inspection",
        }.items()
    )

    other, other_client = make_station("B"), SyncClient(server.url, tokens["B"])
    other_client.sync(other)
    # B never saw RMA-9 received: its third parcel is B's first receipt — another parcel, no conflict
    other.receive("SF1023574470231", "B", "eve")
    other_client.sync(other)
    assert timeline("RMA-9")["conflicts"] == []
    # the parcel A received first, received again at B (as B's second): the same parcel twice
    assert other.receive("SF1023574470215", "B", "eve").parcel_no == 2
    # two stations receiving the same JD parcel as the RMA's first: the conflict the server always reported
    station.receive("JDVA11408814483-1-2-", "A", "ben")
    other.receive("JDVA11408814483-1-2-", "B", "eve")
    client.sync(station)
    other_client.sync(other)
    assert [c["kind"] for c in timeline("RMA-9")["conflicts"]] == ["received_twice"]
    assert "parcel SF1023574470215 received at A and again at B" in timeline("RMA-9")["conflicts"][0]["detail"]
    assert [c["kind"] for c in timeline("RMA-11")["conflicts"]] == ["received_twice"]
