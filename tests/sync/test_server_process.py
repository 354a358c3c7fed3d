"""The server as its own process (`rma server`, one or several workers): races between stations,
an epoch changed while it runs, a PostgreSQL that is still starting (issue 9 cases 1 and 10)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime

import pytest
import requests
import sqlalchemy as sa

from server import db as server_db
from sync.client import SyncClient
from tests.helpers.local_postgres import LocalPostgres, free_port
from tests.sync.conftest import ServerStorage, wait_until
from tests.sync.test_server_api import auth, post_rmas, rma

RMA_CLI = [sys.executable, "-m", "terminal"]
ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


class ServerProcess:
    """`rma server --db URL --workers N` on a free loopback port, as an operator starts it."""

    def __init__(self, url: str, log, workers: int = 1, *extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                *RMA_CLI,
                "server",
                "--db",
                url,
                "--port",
                str(self.port),
                "--rate",
                "0",
                "--workers",
                str(workers),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=ENV,
        )

    def wait_ready(self) -> ServerProcess:
        def healthy() -> bool:
            assert self.proc.poll() is None, "the server process exited"
            try:
                return requests.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(healthy, timeout=90, every=0.1), "the server did not answer"
        return self

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(
    params=[("sqlite", 1), ("postgresql", 1), ("postgresql", 4)], ids=["sqlite", "postgresql", "postgresql-4-workers"]
)
def served(request, tmp_path):
    """(storage, running server process) over SQLite, PostgreSQL, or PostgreSQL behind 4 worker processes."""
    kind, workers = request.param
    storage = ServerStorage(kind, tmp_path, request.getfixturevalue("postgres") if kind == "postgresql" else None)
    with open(tmp_path / "server.log", "wb") as log:
        proc = ServerProcess(storage.url, log, workers).wait_ready()
        yield storage, proc
        proc.stop()
    storage.db.close()


def stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def receipt(seq: int, code: str) -> dict:
    return {
        "seq": seq,
        "id": str(uuid.uuid4()),
        "type": "rma.received",
        "operator": "op1",
        "at": stamp(),
        "rma_code": code,
        "payload": {},
    }


def test_two_stations_receiving_the_same_rmas_at_the_same_instant_always_make_a_conflict(served):
    storage, server = served
    tokens = {name: storage.db.add_station(name) for name in ("A", "B")}
    erp = storage.db.add_station("erp", "integration")
    singles = [f"RMA-S{i:04d}" for i in range(200)]
    groups = [[f"RMA-G{g:02d}-{i:02d}" for i in range(10)] for g in range(10)]
    every = singles + [c for g in groups for c in g]
    assert post_rmas(server.url, erp, [rma(c) for c in every]).status_code == 200
    # each round: A and B push their receipts at once; a group round sends ten RMAs, A in one
    # order and B in the other (the server must lock them in one order, or the two deadlock)
    rounds = [[c] for c in singles] + groups
    barrier = threading.Barrier(2)
    answers: dict[str, list[int]] = {"A": [], "B": []}

    def station(name: str) -> None:
        seq = 0
        for codes in rounds:
            codes = codes if name == "A" else codes[::-1]
            events = [receipt(seq + i + 1, c) for i, c in enumerate(codes)]
            barrier.wait(timeout=60)
            # a new connection per push: with several workers, the two land on any of them
            answer = requests.post(
                f"{server.url}/api/v1/events",
                json={"after_seq": seq, "events": events},
                headers=auth(tokens[name]) | {"Connection": "close"},
                timeout=60,
            )
            answers[name].append(answer.status_code)
            if answer.status_code == 200:
                seq = answer.json()["acked_seq"]

    threads = [threading.Thread(target=station, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    with storage.db.read() as conn:
        found = conn.execute(sa.select(server_db.conflicts.c.rma_code, server_db.conflicts.c.kind)).all()
        received = dict(conn.execute(sa.select(server_db.rmas.c.code, server_db.rmas.c.received_station)).all())
    per_rma: dict[str, list[str]] = {}
    for code, kind in found:
        per_rma.setdefault(code, []).append(kind)
    lost = [c for c in singles if per_rma.get(c) != ["received_twice"]]
    assert lost == [], f"{len(lost)} of {len(singles)} RMAs received at once without exactly one conflict"
    assert answers["A"] == answers["B"] == [200] * len(rounds)  # no deadlock (503) when ten are locked at once
    missing = [c for c in every if per_rma.get(c) != ["received_twice"]]
    assert missing == [], f"{len(missing)} of {len(every)} RMAs without exactly one received_twice conflict"
    assert set(per_rma) == set(every)
    assert all(received[c] in ("A", "B") for c in every)  # one receipt counts, the other is the conflict


# --- issue 14: tokens known to a worker, revoked in the database --------------------------------


def test_a_revoked_token_is_refused_at_once_by_every_worker(served):
    """Each worker keeps the tokens it has seen valid; a revocation still stops the very next request."""
    storage, server = served
    token = storage.db.add_station("A")
    seq = 0

    def push(how: str) -> requests.Response:
        nonlocal seq
        event = receipt(seq + 1, "RMA-NONE") | {"type": "note.added", "rma_code": None}
        answer = requests.post(
            f"{server.url}/api/v1/events",
            json={"after_seq": seq, "events": [event]},
            headers=auth(how) | {"Connection": "close"},  # a new connection each: any worker takes it
            timeout=30,
        )
        if answer.status_code == 200:
            seq = answer.json()["acked_seq"]
        return answer

    assert [push(token).status_code for _ in range(16)] == [200] * 16  # every worker has seen it valid
    storage.db.revoke_station("A")
    after = [push(token) for _ in range(16)]
    assert [a.status_code for a in after] == [401] * 16
    assert all(a.json()["detail"] == "unknown or revoked token" for a in after)
    status = requests.get(f"{server.url}/api/v1/station", headers=auth(token) | {"Connection": "close"}, timeout=30)
    assert status.status_code == 401
    assert [s for s, _ in storage.db.station_events("A")] == list(range(1, 17))  # nothing stored once revoked
    # a new token for the station: the old one stays refused, the new one pushes on
    fresh = storage.db.add_station("A")
    assert [push(token).status_code for _ in range(8)] == [401] * 8
    assert [push(fresh).status_code for _ in range(8)] == [200] * 8
    assert [s for s, _ in storage.db.station_events("A")] == list(range(1, 25))


# --- case 10: the epoch changes while the server runs; PostgreSQL still starting ------------


def test_new_epoch_takes_effect_while_the_server_runs(served, make_station):
    storage, server = served
    token = storage.db.add_station("A")
    a = make_station("A", events=4)
    client = SyncClient(server.url, token)
    assert client.sync(a).waiting == 0
    done = subprocess.run(
        [*RMA_CLI, "server", "new-epoch", "--db", storage.url], capture_output=True, text=True, timeout=60, env=ENV
    )
    assert done.returncode == 0, done.stderr
    epoch = done.stdout.split()[-1]
    # every worker answers with the new epoch, on new connections (any worker may take each)
    seen = {
        requests.get(f"{server.url}/api/v1/station", headers=auth(token) | {"Connection": "close"}, timeout=10).json()[
            "epoch"
        ]
        for _ in range(12)
    }
    assert seen == {epoch}
    assert requests.get(f"{server.url}/api/v1/health", timeout=10).json()["epoch"] == epoch
    a.record("note.added", "A", "op1", {"n": 1})
    report = client.sync(a)
    assert report.epoch_changed and report.waiting == 0
    assert a.get_state("server_epoch") == epoch


def test_rma_server_waits_for_a_postgresql_that_is_still_starting(tmp_path):
    cluster = LocalPostgres()
    try:
        cluster.start()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL TESTS NOT RUN: {exc}")
    try:
        url = cluster.create_database("rma_wait").replace("postgresql+psycopg://", "postgresql://")
        cluster.halt()
        log_path = tmp_path / "server.log"
        with open(log_path, "wb") as log:
            server = ServerProcess(url, log)
            try:
                assert wait_until(lambda: b"waiting up to 30 s" in log_path.read_bytes(), timeout=30)
                assert server.proc.poll() is None  # still waiting, not exited
                cluster.resume()
                try:
                    server.wait_ready()
                except AssertionError:
                    raise AssertionError(log_path.read_text()[-2000:]) from None
                lines = log_path.read_text().splitlines()
                [waiting] = [line for line in lines if "waiting" in line]
                assert "PostgreSQL at postgresql+psycopg://rma@127.0.0.1" in waiting and "Traceback" not in waiting
            finally:
                server.stop()
        # a database that does not exist is not waited for: one line, at once
        done = subprocess.run(
            [*RMA_CLI, "server", "stations", "--db", url.replace("rma_wait", "no_such_db")],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
        )
        assert done.returncode != 0 and "waiting" not in done.stderr and "does not exist" in done.stderr
    finally:
        cluster.stop()
