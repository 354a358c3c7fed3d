"""The raw-library floor of a push: what uvicorn and the database driver alone cost for the same durable work.

    .venv/bin/python bench/raw_floor.py PORT DATABASE_URL STATIONS    # started by bench/server_bench.py

No code of the server's: a plain ASGI callable on the same uvicorn (httptools, uvloop), the
body parsed by the same pydantic model (:class:`sync.protocol.PushBatch`), handed to a thread as
lightly as it can be (a SimpleQueue there, one ``call_soon_threadsafe`` back), and stored by the
bare driver in one transaction, committed before the answer with the server's durability:

* SQLite (``sqlite3``): WAL, ``synchronous=FULL``; ``BEGIN IMMEDIATE``, the station's row, one
  ``executemany`` INSERT, the station's acknowledged seq, ``COMMIT`` (its fsync);
* PostgreSQL (``psycopg``, ``fsync`` on as the bench's cluster has it): the two round trips the
  server's push takes, ``BEGIN; SELECT ... FOR UPDATE`` then the rows as one JSON text,
  ``UPDATE`` and ``COMMIT`` in one simple query.

The bearer token is the station's name (no token check, no rate limit, no header or body
deadlines, no validation beyond the model, no projection or webhooks): every request is a
station's push, and what the server costs above this row is its own code.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel, Field

from sync.protocol import MAX_BATCH, OutboxEvent


class PushBatch(BaseModel):
    """A push, every event checked as the server checks it (its ``ValidBatch``), in one pass."""

    after_seq: int = Field(ge=0)
    events: list[OutboxEvent] = Field(max_length=MAX_BATCH)


COLUMNS = ("station", "seq", "event_id", "type", "operator", "at", "server_at", "rma_code", "refers_to", "payload")
TABLES = [
    "CREATE TABLE raw_stations (name TEXT PRIMARY KEY, acked_seq BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE raw_events (id {serial} PRIMARY KEY, station TEXT NOT NULL, seq BIGINT NOT NULL, "
    "event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, operator TEXT NOT NULL, at TEXT NOT NULL, "
    "server_at TEXT NOT NULL, rma_code TEXT, refers_to TEXT, payload TEXT NOT NULL)",
    # not unique: the bench's flat phase starts each station's seqs again at 1
    "CREATE INDEX raw_events_station_seq ON raw_events (station, seq)",
]


def rows_of(station: str, batch: PushBatch) -> list[dict]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return [
        {
            "station": station,
            "seq": e.seq,
            "event_id": e.id,
            "type": e.type,
            "operator": e.operator,
            "at": e.at,
            "server_at": now,
            "rma_code": e.rma_code,
            "refers_to": e.refers_to,
            "payload": json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
        }
        for e in batch.events
    ]


class SqliteStore:
    def __init__(self, path: str, stations: list[str]):
        self.path, self.local = path, threading.local()
        setup = sqlite3.connect(path, isolation_level=None)
        setup.execute("PRAGMA journal_mode=WAL")
        for sql in TABLES:
            setup.execute(sql.format(serial="INTEGER"))
        setup.executemany("INSERT INTO raw_stations (name) VALUES (?)", [(s,) for s in stations])
        setup.close()
        self.insert = f"INSERT INTO raw_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

    def connect(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        self.local.conn = conn

    def push(self, station: str, batch: PushBatch) -> int:
        conn, rows = self.local.conn, rows_of(station, batch)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("SELECT acked_seq FROM raw_stations WHERE name = ?", (station,)).fetchall()
            conn.executemany(self.insert, [tuple(r[c] for c in COLUMNS) for r in rows])
            conn.execute("UPDATE raw_stations SET acked_seq = ? WHERE name = ?", (batch.events[-1].seq, station))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(rows)


class PostgresStore:
    def __init__(self, url: str, stations: list[str]):
        import psycopg

        self.psycopg, self.url, self.local = (
            psycopg,
            url.replace("postgresql+psycopg://", "postgresql://"),
            threading.local(),
        )
        with psycopg.connect(self.url, autocommit=True) as setup:
            for sql in TABLES:
                setup.execute(sql.format(serial="BIGSERIAL"))
            setup.cursor().executemany("INSERT INTO raw_stations (name) VALUES (%s)", [(s,) for s in stations])
        types = ", ".join(f"{c} {'bigint' if c == 'seq' else 'text'}" for c in COLUMNS)
        self.insert = (
            f"INSERT INTO raw_events ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} "
            f"FROM json_to_recordset(%s) AS r({types})"
        )

    def connect(self) -> None:
        self.local.conn = self.psycopg.connect(self.url, autocommit=True, cursor_factory=self.psycopg.ClientCursor)

    def push(self, station: str, batch: PushBatch) -> int:
        conn, rows = self.local.conn, rows_of(station, batch)
        with conn.cursor() as cur:
            cur.execute("BEGIN; SELECT acked_seq FROM raw_stations WHERE name = %s FOR UPDATE", (station,))
            cur.nextset()  # past BEGIN's result to the SELECT's
            cur.fetchall()
            try:
                cur.execute(
                    self.insert + "; UPDATE raw_stations SET acked_seq = %s WHERE name = %s; COMMIT",
                    (json.dumps(rows, ensure_ascii=False), batch.events[-1].seq, station),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(rows)


class Threads:
    """Jobs on a SimpleQueue, results back by one call_soon_threadsafe; a thread more while all are busy."""

    def __init__(self, connect, size: int = 8):
        self.connect, self.size, self.jobs, self.started, self.busy = connect, size, queue.SimpleQueue(), 0, 0

    async def run(self, work):
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.busy += 1
        try:
            if self.busy > self.started and self.started < self.size:
                threading.Thread(target=self._serve, daemon=True).start()
                self.started += 1
            self.jobs.put((work, loop, done))
            return await done
        finally:
            self.busy -= 1

    def _serve(self) -> None:
        self.connect()
        while True:
            work, loop, done = self.jobs.get()
            try:
                outcome = (work(), None)
            except Exception as exc:  # noqa: BLE001 - raised in the request
                outcome = (None, exc)
            loop.call_soon_threadsafe(_settle, done, *outcome)


def _settle(done: asyncio.Future, result, exc) -> None:
    if exc is not None:
        done.set_exception(exc)
    else:
        done.set_result(result)


def make_app(store):
    threads = Threads(store.connect)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            return await send({"type": "lifespan.shutdown.complete"})
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        status, out = 200, b'{"status":"ok"}'
        if scope["method"] == "POST":
            station = dict(scope["headers"]).get(b"authorization", b"").decode().partition(" ")[2]
            batch = PushBatch.model_validate_json(body)
            try:
                stored = await threads.run(lambda: store.push(station, batch)) if batch.events else 0
                acked = batch.events[-1].seq if batch.events else batch.after_seq
                out = json.dumps(
                    {"epoch": "raw", "station": station, "acked_seq": acked, "stored": stored,
                     "duplicates": 0, "rejected": [], "conflicts": 0}
                ).encode()  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - a floor: any failure is a 503
                status, out = 503, json.dumps({"detail": str(exc)}).encode()
        headers = [(b"content-length", str(len(out)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return app


def main() -> None:
    port, url, stations = int(sys.argv[1]), sys.argv[2], [f"st{i:03d}" for i in range(int(sys.argv[3]))]
    store = PostgresStore(url, stations) if url.startswith("postgresql") else SqliteStore(url, stations)
    uvicorn.run(
        make_app(store), host="127.0.0.1", port=port, log_level="warning", access_log=False,
        loop="uvloop", http="httptools", lifespan="on",
    )  # fmt: skip


if __name__ == "__main__":
    main()
