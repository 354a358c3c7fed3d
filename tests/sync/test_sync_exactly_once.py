"""Push and pull through faults, restarts and restores: every event on the server exactly once,
every change at every station.  Run against SQLite and a real PostgreSQL cluster."""

from __future__ import annotations

import itertools
import threading

import requests

from sync import store as store_module
from sync.client import Retryable, SyncClient
from tests.helpers.server_queries import row_counts


def rma(code: str, status: str = "authorized", sku: str = "SKU-1") -> dict:
    return {
        "rma_code": code,
        "status": status,
        "lines": [{"sku": sku, "qty": 1, "category": "shoes"}],
        "tracking_numbers": [f"1Z{code[-6:]}00"],
    }


def import_rmas(url: str, token: str, records: list[dict]) -> None:
    for i in range(0, len(records), 1000):  # the server takes at most 1000 per request
        answer = requests.post(
            f"{url}/api/v1/rmas",
            json={"rmas": records[i : i + 1000]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text


def client_for(url: str, token: str, **kw) -> SyncClient:
    kw.setdefault("backoff", 0.02)
    kw.setdefault("backoff_cap", 0.2)
    kw.setdefault("timeout", (1.0, 1.0))
    kw.setdefault("attempts", 4)
    return SyncClient(url, token, **kw)


def sync_until_settled(client: SyncClient, store, rounds: int = 60):
    """Sync again after passing failures, as the watch loop does, until nothing waits."""
    for _ in range(rounds):
        try:
            report = client.sync(store)
        except Retryable:
            continue
        if report.waiting == 0:
            return report
    raise AssertionError(f"not settled after {rounds} rounds; {store.unsent_count()} waiting")


def outbox(store) -> list[tuple[int, str]]:
    return [(e.seq, e.id) for e in store.events(0, 10**9)]


def station_rmas(store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT code FROM rmas")}


def test_faulty_network_every_event_once_every_change_everywhere(
    storage, server, tokens, fault_proxy, random_faults, make_station
):
    a, b = make_station("A", events=700), make_station("B", events=450)
    import_rmas(server.url, tokens["erp"], [rma(f"RMA-{i:06d}") for i in range(1200)])
    proxy = fault_proxy(server.port, random_faults(seed=7, rate=0.35))

    def station(path, name: str) -> None:  # each station on its own thread, with its own connection
        client = client_for(proxy.url, tokens[name], batch=40, page=150)
        with store_module.Store(path) as store:
            sync_until_settled(client, store)
        client.close()

    threads = [threading.Thread(target=station, args=(s.path, n)) for s, n in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    faults = {k: v for k, v in proxy.counts.items() if k != "pass"}
    assert len(faults) >= 5, f"too few kinds of faults were injected: {faults}"
    for store, name in ((a, "A"), (b, "B")):
        assert storage.db.station_events(name) == outbox(store)
        assert store.acked_seq() == store.last_seq()
        assert station_rmas(store) == {f"RMA-{i:06d}" for i in range(1200)}
    assert row_counts(storage.db)["events"] == 700 + 450


def test_server_restarted_mid_push_loses_and_doubles_nothing(storage, server, tokens, make_station, until):
    a = make_station("A", events=6000)
    client = client_for(server.url, tokens["A"], batch=50, attempts=50, backoff=0.05, backoff_cap=0.3)
    done: dict = {}

    def push() -> None:
        done["report"] = sync_until_settled(client, store_module.Store(a.path), rounds=200)

    pusher = threading.Thread(target=push)
    pusher.start()
    assert until(lambda: storage.db.station_status("A").acked_seq > 0)
    server.stop()  # mid-push: the station keeps retrying against a closed port
    held = storage.db.station_status("A").acked_seq
    server.start()  # same port, same database
    pusher.join(120)
    assert not pusher.is_alive()
    assert 0 < held < 6000, "the restart did not happen mid-push; the test proved nothing"
    assert storage.db.station_events("A") == outbox(a)


def test_duplicated_and_reordered_pushes_are_acknowledged_not_stored_twice(
    storage, server, tokens, fault_proxy, make_station
):
    a = make_station("A", events=300)
    plan = ["dup", "reorder", "pass", "drop_after", "dup", "reorder", "dup"]
    proxy = fault_proxy(server.port, lambda n: plan[n] if n < len(plan) else "pass")
    sync_until_settled(client_for(proxy.url, tokens["A"], batch=25), a)
    assert proxy.counts["dup"] == 3 and proxy.counts["reorder"] == 2
    assert storage.db.station_events("A") == outbox(a)


def test_restored_server_announces_new_epoch_and_stations_repush(storage, server, tokens, make_station):
    a = make_station("A", events=200)
    import_rmas(server.url, tokens["erp"], [rma("RMA-000001"), rma("RMA-000002")])
    client = client_for(server.url, tokens["A"])
    sync_until_settled(client, a)
    storage.backup()
    with a.write() as conn:
        for i in range(100):
            a._append(conn, "parcel.unexpected", "A", "op1", {"scanned": f"late-{i}"})
    sync_until_settled(client, a)
    import_rmas(server.url, tokens["erp"], [rma("RMA-000003")])
    server.stop()
    old_epoch = storage.db.epoch()
    db = storage.restore()
    assert len(db.station_events("A")) == 200  # the backup lacks the last 100 events
    new_epoch = db.new_epoch()
    server.db = db
    server.start()
    import_rmas(server.url, tokens["erp"], [rma("RMA-000004")])  # a cursor the station saw before, reused
    report = sync_until_settled(client, a)
    assert report.epoch_changed and new_epoch != old_epoch
    assert a.get_state("server_epoch") == new_epoch
    assert db.station_events("A") == outbox(a)
    assert {"RMA-000001", "RMA-000002", "RMA-000004"} <= station_rmas(a)


def test_rejected_event_is_kept_and_does_not_block_later_ones(storage, server, tokens, make_station):
    a = make_station("A", events=3)
    with a.write() as conn:
        a._append(conn, "parcel.unexpected", "A", "x" * 65, {"scanned": "operator id too long"})
        a._append(conn, "Not A Type", "A", "op1", {})
        a._append(conn, "parcel.unexpected", "A", "op1", {"scanned": "after the bad ones"})
    report = sync_until_settled(client_for(server.url, tokens["A"]), a)
    assert [r["seq"] for r in report.rejected] == [4, 5]
    assert "operator" in report.rejected[0]["reason"] and "type" in report.rejected[1]["reason"]
    assert [s for s, _ in storage.db.station_events("A")] == [1, 2, 3, 6]
    assert a.acked_seq() == 6
    assert [r["seq"] for r in a.sync_rejections()] == [4, 5]


def test_pull_pages_by_cursor_and_keeps_the_local_stage(storage, server, tokens, make_station):
    a = make_station("A")
    import_rmas(server.url, tokens["erp"], [rma(f"RMA-{i:06d}") for i in range(2500)])
    client = client_for(server.url, tokens["A"], page=1000)
    report = client.sync(a)
    assert report.pulled == 2500 and int(a.get_state("pull_cursor")) == report.cursor
    assert a.receive("RMA-000007", "A", "op1").outcome.value == "RECEIVED"
    import_rmas(server.url, tokens["erp"], [rma("RMA-000007", status="cancelled")])
    assert client.sync(a).pulled == 2  # the cancellation, and the conflict with our receipt
    local = a.get_rma("RMA-000007")
    assert local.status == "cancelled" and local.stage == "received"
    assert [c["kind"] for c in a.sync_conflicts("rma-000007")] == ["cancelled_while_offline"]
    assert len(station_rmas(a)) == 2500


def test_client_waits_out_retry_after_before_trying_again(
    sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy, make_station
):
    a = make_station("A", events=5)
    plan = ["pass", "429", "500", "429"]  # Retry-After: 1 on each 429; backoff alone would be ~20 ms
    proxy = fault_proxy(sqlite_server.port, lambda n: plan[n] if n < len(plan) else "pass")
    report = client_for(proxy.url, sqlite_tokens["A"], attempts=6).sync(a)
    assert report.waiting == 0 and len(sqlite_storage.db.station_events("A")) == 5
    gaps = [(later - at, action) for (at, action), (later, _) in itertools.pairwise(proxy.log)]
    waited = [g for g, action in gaps if action == "429"]
    assert len(waited) == 2 and all(g >= 1.0 for g in waited), waited
    assert all(g < 0.9 for g, action in gaps if action == "500")  # no Retry-After: the short backoff


def test_server_and_protocol_import_nothing_of_the_station_screen():
    import subprocess
    import sys

    # (qc_checklists is not station code: it ships with the server, whose analytics use its reason vocabulary)
    code = (
        "import sys, server.api, server.run, server.cli, sync.client; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('terminal', 'textual', 'labels', "
        "'cv2')); print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_same_batch_sent_concurrently_is_stored_once(storage, server, tokens, make_station):
    a = make_station("A", events=200)
    body = {
        "after_seq": 0,
        "events": [
            {"seq": e.seq, "id": e.id, "type": e.type, "operator": e.operator, "at": e.at, "payload": e.payload}
            for e in a.events(0, 200)
        ],
    }
    answers: list = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        answers.append(
            requests.post(
                f"{server.url}/api/v1/events", json=body, timeout=30, headers={"Authorization": f"Bearer {tokens['A']}"}
            )
        )

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in answers] == [200] * 8
    assert sorted(r.json()["stored"] for r in answers) == [0] * 7 + [200]
    assert all(r.json()["acked_seq"] == 200 for r in answers)
    assert storage.db.station_events("A") == outbox(a)


def test_postgresql_restarted_mid_push_loses_and_doubles_nothing(postgres, pg_storage, make_station, until):
    from tests.helpers.server_thread import ServerThread

    storage = pg_storage
    token = storage.db.add_station("A")
    server = ServerThread(storage.db, rate=0).start()
    try:
        a = make_station("A", events=6000)
        client = client_for(server.url, token, batch=50, attempts=50, backoff=0.05, backoff_cap=0.3)
        pusher = threading.Thread(target=lambda: sync_until_settled(client, store_module.Store(a.path), rounds=200))
        pusher.start()
        assert until(lambda: storage.db.station_status("A").acked_seq > 0)
        postgres.restart()  # every pooled connection dies under the server's feet
        held = storage.db.station_status("A").acked_seq
        pusher.join(120)
        assert 0 < held < 6000, "the restart did not happen mid-push; the test proved nothing"
        assert storage.db.station_events("A") == outbox(a)
    finally:
        server.stop()
