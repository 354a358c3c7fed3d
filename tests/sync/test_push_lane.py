"""The push's hot path (issue 14): push threads keep their database connection between pushes.

A kept connection is not pinged before each push as a pooled one is; these tests hold it to what
the pool gave: a push on a connection the database dropped is stored (once, on a fresh
connection), and closing the database closes the kept ones too.  On PostgreSQL a push's rows go to
the database as one JSON text: every character a station may send comes back as it was sent.

A push that must wait for a lock another transaction holds waits in a push thread, and the server
goes on answering meanwhile.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from server.db import stations
from tests.helpers.server_queries import refused_events
from tests.helpers.server_thread import ServerThread
from tests.sync.conftest import wait_until
from tests.sync.test_server_api import event, push


def _backends(postgres, dbname: str) -> int:
    with psycopg.connect(host="127.0.0.1", port=postgres.port, user=postgres.user, dbname="postgres") as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,)
        ).fetchone()[0]


def _drop_backends(postgres, dbname: str) -> int:
    with psycopg.connect(
        host="127.0.0.1", port=postgres.port, user=postgres.user, dbname="postgres", autocommit=True
    ) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    return len(rows)


@pytest.fixture
def pg_server(pg_storage):
    server = ServerThread(pg_storage.db, rate=0).start()
    yield server
    server.stop()


def test_a_push_on_a_kept_connection_the_database_dropped_is_stored_once_all_the_same(postgres, pg_storage, pg_server):
    token = pg_storage.db.add_station("A")
    first = [event(1), event(2)]
    assert push(pg_server.url, token, first).status_code == 200
    assert _drop_backends(postgres, pg_storage.name) > 0  # the push thread's kept connection among them
    second = [event(3), event(4)]
    answer = push(pg_server.url, token, second, after_seq=2)
    assert answer.status_code == 200, answer.text  # retried on a fresh connection, as a pre-ping would
    assert (answer.json()["stored"], answer.json()["acked_seq"]) == (2, 4)
    held = pg_storage.db.station_events("A")
    assert held == [(e["seq"], e["id"]) for e in first + second]


def test_closing_the_database_closes_the_connections_push_threads_kept(postgres, pg_storage):
    server = ServerThread(pg_storage.db, rate=0).start()
    token = pg_storage.db.add_station("A")
    try:
        for n in range(3):
            assert push(server.url, token, [event(n + 1)], after_seq=n).status_code == 200
    finally:
        server.stop()
    assert _backends(postgres, pg_storage.name) > 0
    pg_storage.db.close()
    # a backend ends a moment after its client closed the socket (CI once still saw it): gone soon, or leaked
    assert wait_until(lambda: _backends(postgres, pg_storage.name) == 0, timeout=10)


AWKWARD = "引号 \"double\" 'single' back\\slash %s %(x)s $1 ? \n\t\r \u2028 😀 ::json"


def test_every_character_a_station_may_send_is_stored_as_it_was_sent(storage, server, tokens):
    """Guards the JSON text of a push's rows (PostgreSQL): quoting, escapes, placeholders, non-ASCII."""
    sent = [
        event(1, operator=AWKWARD[:64], rma_code="RMA-引号-1", payload={AWKWARD: [AWKWARD, None, 1.5, {"k": AWKWARD}]}),
        event(2, operator="op1", rma_code="RMA-引号-1", refers_to=None, payload={}),
    ]
    assert push(server.url, tokens["A"], sent).json()["stored"] == 2
    held = [(s.operator, s.event_id, s.detail) for s in storage.db.timeline("RMA-引号-1").timeline]
    assert held == [(e["operator"], e["id"], e["payload"]) for e in sent]


def test_a_batch_sent_again_while_the_first_is_stored_is_a_duplicate_not_a_rejection(storage, server, tokens):
    """A retry racing its original: on PostgreSQL the second push's first query waits for the station's row
    lock and reads what it holds as of before the first push committed; its insert then met the events the
    first had stored, and called them ids held under another station or seq (and recorded those refusals)."""
    for n in range(5):
        body = {"after_seq": 5 * n, "events": [event(5 * n + i) for i in range(1, 6)]}
        start, answers = threading.Barrier(6), []

        def send(body=body, start=start, answers=answers) -> None:
            start.wait()
            answers.append(
                requests.post(
                    f"{server.url}/api/v1/events",
                    json=body,
                    headers={"Authorization": f"Bearer {tokens['A']}"},
                    timeout=30,
                ).json()
            )

        threads = [threading.Thread(target=send) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert [(a["rejected"], a["acked_seq"]) for a in answers] == [([], 5 * n + 5)] * 6
        assert sorted(a["stored"] for a in answers) == [0] * 5 + [5]
    assert refused_events(storage.db, "A") == []
    assert [seq for seq, _ in storage.db.station_events("A")] == list(range(1, 26))


@contextlib.contextmanager
def station_row_locked(storage, station: str):
    """A transaction of the server's own holding the station's row (SQLite: the database's one writer)."""
    with storage.db.write() as conn:
        conn.execute(stations.update().where(stations.c.name == station).values(acked_seq=stations.c.acked_seq))
        yield


def push_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("rma-push")}


def test_a_push_that_must_wait_for_a_lock_waits_in_a_push_thread_while_the_server_answers(storage, server, tokens):
    """Not on the event loop's thread: there the whole server would wait with it (issue 14)."""
    before = push_threads()  # (those of servers of earlier tests may not have ended yet)
    assert push(server.url, tokens["A"], [event(1)]).status_code == 200
    pool = ThreadPoolExecutor(1)
    with station_row_locked(storage, "A"):
        pending = pool.submit(push, server.url, tokens["A"], [event(2)], 1)
        assert wait_until(lambda: push_threads() - before)  # handed to a push thread, where it waits
        assert requests.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
        station = requests.get(
            f"{server.url}/api/v1/station", headers={"Authorization": f"Bearer {tokens['B']}"}, timeout=10
        )
        assert station.json()["station"] == "B"
        assert not pending.done()  # still waiting for the lock
    answer = pending.result(timeout=30)
    pool.shutdown()
    assert (answer.status_code, answer.json()["acked_seq"], answer.json()["stored"]) == (200, 2, 1)
    assert [seq for seq, _ in storage.db.station_events("A")] == [1, 2]


def test_a_push_that_fails_after_its_first_round_trip_stores_nothing_and_the_next_push_is_stored(
    storage, server, tokens
):
    """PostgreSQL: the push opens its transaction with its first statement and may commit with its insert
    (one round trip each); one that fails between leaves nothing, and its connection (kept) takes the next."""
    taken = event(1)
    assert push(server.url, tokens["B"], [taken]).status_code == 200
    sent = [event(1), event(2, id=taken["id"]), event(3)]  # the insert of the three fails: B holds that id
    answer = push(server.url, tokens["A"], sent).json()
    assert (answer["stored"], [r["seq"] for r in answer["rejected"]], answer["acked_seq"]) == (2, [2], 3)
    assert [seq for seq, _ in storage.db.station_events("A")] == [1, 3]
    storage.db.revoke_station("A")  # refused by the first statement, after its BEGIN
    assert push(server.url, tokens["A"], [event(4)], after_seq=3).status_code == 401
    token = storage.db.add_station("A")
    answer = push(server.url, token, [event(4)], after_seq=3).json()
    assert (answer["stored"], answer["acked_seq"]) == (1, 4)
    assert [seq for seq, _ in storage.db.station_events("A")] == [1, 3, 4]
    assert [seq for seq, _, _ in refused_events(storage.db, "A")] == [2]
