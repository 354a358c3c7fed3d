"""The server's HTTP surface: security, limits, conflicts, timeline, OpenAPI."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from sync.client import NotAuthorized, Refused, SyncClient
from sync.protocol import MAX_BATCH
from tests.helpers.server_queries import row_counts
from tests.helpers.server_thread import ServerThread
from tests.helpers.tls import server_certificate


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def event(seq: int, **over) -> dict:
    body = {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "type": "parcel.unexpected",
        "operator": "op1",
        "at": "2026-11-21T10:00:00.000+00:00",
        "payload": {"scanned": f"P{seq}"},
    }
    body.update(over)
    return body


def push(url: str, token: str | None, events: list[dict], after_seq: int = 0) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/events",
        json={"after_seq": after_seq, "events": events},
        headers=auth(token) if token else {},
        timeout=10,
    )


def rma(code: str, status: str = "authorized") -> dict:
    return {"rma_code": code, "status": status, "lines": [{"sku": "SKU-1", "qty": 1}]}


def post_rmas(url: str, token: str, records: list[dict]) -> requests.Response:
    return requests.post(f"{url}/api/v1/rmas", json={"rmas": records}, headers=auth(token), timeout=10)


# --- security ------------------------------------------------------------------------


def test_no_token_and_bad_token_get_401(server):
    assert push(server.url, None, [event(1)]).status_code == 401
    answer = push(server.url, "not-a-token", [event(1)])
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(f"{server.url}/api/v1/changes", timeout=5).status_code == 401


def test_revoked_token_gets_401_at_once(storage, server, tokens):
    assert push(server.url, tokens["A"], [event(1)]).status_code == 200
    storage.db.revoke_station("A")
    answer = push(server.url, tokens["A"], [event(2)], after_seq=1)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    with pytest.raises(NotAuthorized):
        SyncClient(server.url, tokens["A"], attempts=1).status()
    assert [s for s, _ in storage.db.station_events("A")] == [1]


def test_station_a_cannot_write_as_station_b(storage, server, tokens):
    ours = event(1, station="B")  # the body names B; the token is A's
    assert push(server.url, tokens["A"], [ours]).status_code == 200
    assert storage.db.station_events("A") == [(1, ours["id"])]
    assert storage.db.station_events("B") == []
    # B's own seq 1 is still B's to push
    theirs = event(1)
    assert push(server.url, tokens["B"], [theirs]).json()["acked_seq"] == 1
    assert storage.db.station_events("B") == [(1, theirs["id"])]
    # and A cannot re-send B's event id as its own
    answer = push(server.url, tokens["A"], [dict(theirs, seq=2)], after_seq=1).json()
    assert "already stored" in answer["rejected"][0]["reason"]


def test_only_integrations_create_rmas_and_only_stations_push(server, tokens):
    assert post_rmas(server.url, tokens["A"], [rma("RMA-1")]).status_code == 403
    assert push(server.url, tokens["erp"], [event(1)]).status_code == 403
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-1")]).status_code == 200


# --- limits --------------------------------------------------------------------------


def test_oversized_body_gets_413_with_a_clear_line(sqlite_server, sqlite_tokens):
    big = [event(i, payload={"note": "x" * 10_000}) for i in range(1, 500)]  # ~5 MB
    answer = push(sqlite_server.url, sqlite_tokens["A"], big)
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]


def test_oversized_chunked_body_gets_413(sqlite_server, sqlite_tokens):
    def chunks():
        yield b'{"after_seq": 0, "events": ['
        for _ in range(600):
            yield b'{"seq": 1, "pad": "' + b"x" * 10_000 + b'"},'

    answer = requests.post(
        f"{sqlite_server.url}/api/v1/events",
        data=chunks(),
        timeout=10,
        headers=auth(sqlite_tokens["A"]) | {"Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_batch_and_field_limits_get_422_with_one_line(sqlite_server, sqlite_tokens):
    answer = push(sqlite_server.url, sqlite_tokens["A"], [event(i) for i in range(1, MAX_BATCH + 2)])
    assert answer.status_code == 422 and f"at most {MAX_BATCH}" in answer.json()["detail"]
    answer = post_rmas(sqlite_server.url, sqlite_tokens["erp"], [dict(rma("R1"), customer_name="n" * 201)])
    assert answer.status_code == 422 and "customer_name" in answer.json()["detail"]
    answer = push(sqlite_server.url, sqlite_tokens["A"], [event(2), event(1)])
    assert answer.status_code == 422 and "increasing" in answer.json()["detail"]
    assert "\n" not in answer.json()["detail"]


def test_rate_limit_answers_429_with_retry_after_and_the_client_waits_it_out(
    sqlite_storage, sqlite_tokens, make_station
):
    server = ServerThread(sqlite_storage.db, rate=2, burst=2).start()
    try:
        answers = [
            requests.get(f"{server.url}/api/v1/station", headers=auth(sqlite_tokens["A"]), timeout=5) for _ in range(4)
        ]
        limited = [a for a in answers if a.status_code == 429]
        assert limited and int(limited[0].headers["Retry-After"]) >= 1
        # a station with more to push than the limit allows at once still gets everything through
        a = make_station("A", events=30)
        client = SyncClient(server.url, sqlite_tokens["A"], batch=5, backoff=0.01, attempts=10)
        assert client.sync(a).waiting == 0
        assert [s for s, _ in sqlite_storage.db.station_events("A")] == list(range(1, 31))
    finally:
        server.stop()


# --- conflicts -------------------------------------------------------------------------


def test_same_rma_received_at_two_stations_keeps_both_and_both_stations_see_it(storage, server, tokens, make_station):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-9")]).status_code == 200
    a, b = make_station("A"), make_station("B")
    clients = {"A": SyncClient(server.url, tokens["A"]), "B": SyncClient(server.url, tokens["B"])}
    for store, name in ((a, "A"), (b, "B")):
        clients[name].sync(store)
        assert store.receive("RMA-9", name, "op1").outcome.value == "RECEIVED"  # both offline
    for store, name in ((a, "A"), (b, "B"), (a, "A")):
        clients[name].sync(store)
    timeline = requests.get(f"{server.url}/api/v1/rmas/rma-9", headers=auth(tokens["A"]), timeout=5).json()
    assert [(t["what"], t["station"]) for t in timeline["timeline"]] == [
        ("authorized", ""),
        ("rma.received", "A"),
        ("rma.received", "B"),
    ]
    assert [c["kind"] for c in timeline["conflicts"]] == ["received_twice"]
    assert timeline["conflicts"][0]["stations"] == ["A", "B"]
    for store in (a, b):
        seen = store.sync_conflicts("RMA-9")
        assert [(c["kind"], c["stations"]) for c in seen] == [("received_twice", ["A", "B"])]


def test_item_inspected_twice_and_inspection_of_a_cancelled_rma_are_conflicts(storage, server, tokens, make_station):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-5"), rma("RMA-6")]).status_code == 200
    a, b = make_station("A"), make_station("B")
    ca, cb = SyncClient(server.url, tokens["A"]), SyncClient(server.url, tokens["B"])
    first = a.record("item.inspected", "A", "op1", {"line_no": 1, "result": "pass"}, rma_code="RMA-5")
    ca.sync(a)
    b.record("item.inspected", "B", "op2", {"line_no": 1, "result": "fail"}, rma_code="RMA-5")
    # a correction that refers to the first inspection is not a conflict
    first_id = a.events(first - 1, 1)[0].id
    with a.write() as conn:
        a._append(conn, "item.inspected", "A", "op1", {"line_no": 1, "result": "pass"}, "RMA-5", refers_to=first_id)
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-6", "cancelled")]).status_code == 200
    a.record("item.inspected", "A", "op1", {"line_no": 1}, rma_code="RMA-6")  # A has not pulled the cancel
    cb.sync(b)
    ca.sync(a)
    kinds = {(c["kind"], c["rma_code"]) for c in a.sync_conflicts()}
    assert kinds == {("inspected_twice", "RMA-5"), ("cancelled_while_offline", "RMA-6")}
    assert row_counts(storage.db)["events"] == 4  # every record kept
    assert first == 1


def test_timeline_and_health_and_openapi(server, tokens, make_station):
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-7")]).status_code == 200
    a = make_station("A")
    client = SyncClient(server.url, tokens["A"])
    client.sync(a)
    a.receive("RMA-7", "A", "op1")
    client.sync(a)
    assert post_rmas(server.url, tokens["erp"], [rma("RMA-7", "cancelled")]).status_code == 200
    answer = requests.get(f"{server.url}/api/v1/rmas/RMA-7", headers=auth(tokens["A"]), timeout=5).json()
    assert [t["what"] for t in answer["timeline"]] == ["authorized", "rma.received", "cancelled"]
    assert answer["stage"] == "received" and answer["status"] == "cancelled"
    assert requests.get(f"{server.url}/api/v1/rmas/NOPE", headers=auth(tokens["A"]), timeout=5).status_code == 404
    health = requests.get(f"{server.url}/api/v1/health", timeout=5).json()
    assert health["status"] == "ok" and health["database"] == server.db.database
    paths = requests.get(f"{server.url}/openapi.json", timeout=5).json()["paths"]
    assert {
        "/api/v1/events",
        "/api/v1/changes",
        "/api/v1/rmas",
        "/api/v1/rmas/{code}",
        "/api/v1/health",
        "/api/v1/checklists/{category}",
    } <= set(paths)


def test_checklists_reach_the_station(server, tokens, make_station):
    doc = json.dumps({"id": "shoes", "items": [{"id": "soles", "prompt": "Soles clean?", "kind": "pass_fail"}]})
    answer = requests.put(
        f"{server.url}/api/v1/checklists/shoes",
        json={"category": "shoes", "document": doc},
        headers=auth(tokens["erp"]),
        timeout=5,
    )
    assert answer.json() == {"changed": True}
    a = make_station("A")
    SyncClient(server.url, tokens["A"]).sync(a)
    assert a.conn.execute("SELECT document FROM synced_checklists WHERE category = 'shoes'").fetchone()[0] == doc


def test_tls_is_verified_and_a_private_ca_can_be_named(sqlite_storage, sqlite_tokens, tmp_path, make_station):

    ca, cert, key = server_certificate(tmp_path)
    server = ServerThread(sqlite_storage.db, rate=0, tls_cert=str(cert), tls_key=str(key)).start()
    try:
        a = make_station("A", events=3)
        with pytest.raises(Refused, match="TLS verification"):
            SyncClient(server.url, sqlite_tokens["A"], attempts=1).sync(a)
        report = SyncClient(server.url, sqlite_tokens["A"], ca_path=str(ca)).sync(a)
        assert server.url.startswith("https://") and report.waiting == 0
        assert len(sqlite_storage.db.station_events("A")) == 3
    finally:
        server.stop()


def test_real_inspections_two_units_are_not_a_conflict_the_same_unit_at_two_stations_is(
    storage, server, tokens, make_station
):
    from sync.store import Inspection

    record = dict(rma("RMA-8"), lines=[{"sku": "SHOE-1", "qty": 2, "category": "shoes"}])
    assert post_rmas(server.url, tokens["erp"], [record]).status_code == 200
    a, b = make_station("A"), make_station("B")
    ca, cb = SyncClient(server.url, tokens["A"]), SyncClient(server.url, tokens["B"])

    def inspect(store, station: str) -> None:
        store.save_inspection(
            Inspection(
                rma_code="RMA-8",
                line_no=1,
                checklist_id="shoes",
                checklist_hash="0" * 64,
                answers=(
                    {"item": "soles", "kind": "pass_fail", "answer": "pass", "failed": False, "severity": "minor"},
                ),
                suggested="resellable",
                final="resellable",
                started_at="2026-11-21T10:00:00.000+00:00",
            ),
            station,
            "op1",
        )

    for store, client, name in ((a, ca, "A"), (b, cb, "B")):
        client.sync(store)
        store.receive("RMA-8", name, "op1")
    inspect(a, "A")
    inspect(a, "A")  # the line's second unit: another item
    inspect(b, "B")  # B, offline, inspects a first unit too: the same item as A's first
    ca.sync(a)
    cb.sync(b)
    ca.sync(a)
    kinds = sorted(c["kind"] for c in a.sync_conflicts("RMA-8"))
    assert kinds == ["inspected_twice", "received_twice"]
    timeline = requests.get(f"{server.url}/api/v1/rmas/RMA-8", headers=auth(tokens["A"]), timeout=5).json()
    whats = [t["what"] for t in timeline["timeline"]]
    assert whats.count("item.inspected") == 3 and whats.count("rma.received") == 2
    assert timeline["stage"] == "inspected"  # A's rma.inspected, once both its units were done


def test_acknowledgement_never_skips_a_gap(storage, server, tokens):
    first, gap, late = (
        [event(i) for i in range(1, 11)],
        [event(i) for i in range(11, 21)],
        [event(i) for i in range(21, 31)],
    )
    assert push(server.url, tokens["A"], first).json()["acked_seq"] == 10
    answer = push(server.url, tokens["A"], late, after_seq=20).json()  # 11-20 never arrived
    assert answer["acked_seq"] == 10 and answer["stored"] == 10
    assert push(server.url, tokens["A"], gap, after_seq=10).json()["acked_seq"] == 20
    again = push(server.url, tokens["A"], late, after_seq=20).json()  # the client resends from 20
    assert again["acked_seq"] == 30 and again["duplicates"] == 10 and again["stored"] == 0
    assert [s for s, _ in storage.db.station_events("A")] == list(range(1, 31))
