"""Sync fixtures: the real server on a loopback port, SQLite or a real PostgreSQL cluster
behind it, and a fault-injecting HTTP proxy of our own in between."""

from __future__ import annotations

import collections
import contextlib
import itertools
import random
import shutil
import socket
import sqlite3
import threading
import time

import pytest

from server.db import ServerDb
from tests.helpers.local_postgres import LocalPostgres, PostgresUnavailable
from tests.helpers.server_thread import ServerThread

# --- PostgreSQL ------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL cluster for the session (Debian's binaries, tmp dir, loopback port)."""
    try:
        cluster = LocalPostgres().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL TESTS NOT RUN: {exc}")
    yield cluster
    cluster.stop()


class ServerStorage:
    """The server's database for one test, with a backup and a restore (for the epoch tests)."""

    _names = itertools.count(1)

    def __init__(self, kind: str, tmp_path, postgres: LocalPostgres | None):
        self.kind, self.tmp_path, self.pg = kind, tmp_path, postgres
        if kind == "sqlite":
            self.url = str(tmp_path / "server.db")
        else:
            self.name = f"rma_test_{next(self._names)}"
            self.url = postgres.create_database(self.name)
        self.db = ServerDb(self.url)

    def backup(self) -> None:
        """Take a consistent copy of the server database as it is now."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.url) as src, sqlite3.connect(str(self.tmp_path / "backup.db")) as dst:
                src.backup(dst)
        else:
            self.db.close()
            self.pg.create_database(self.name + "_backup", template=self.name)

    def restore(self) -> ServerDb:
        """Put the backup back (the server must be stopped) and open it again."""
        self.db.close()
        if self.kind == "sqlite":
            for suffix in ("-wal", "-shm"):
                (self.tmp_path / f"server.db{suffix}").unlink(missing_ok=True)
            shutil.copy(self.tmp_path / "backup.db", self.url)
        else:
            self.pg.execute(f'DROP DATABASE "{self.name}" WITH (FORCE)')
            self.pg.create_database(self.name, template=self.name + "_backup")
        self.db = ServerDb(self.url)
        return self.db


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path):
    """The server's database: a SQLite file, or a fresh database in the real PostgreSQL cluster."""
    pg = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    s = ServerStorage(request.param, tmp_path, pg)
    yield s
    s.db.close()


@pytest.fixture
def sqlite_storage(tmp_path):
    """A SQLite server database only (for tests of the HTTP layer, not of storage)."""
    s = ServerStorage("sqlite", tmp_path, None)
    yield s
    s.db.close()


@pytest.fixture
def pg_storage(postgres, tmp_path):
    """A PostgreSQL server database only (for tests that restart the cluster)."""
    s = ServerStorage("postgresql", tmp_path, postgres)
    yield s
    s.db.close()


def _serve(storage: ServerStorage, **options):
    server = ServerThread(storage.db, **options).start()
    yield server
    server.stop()


@pytest.fixture
def server(storage):
    """The real server on a loopback port over ``storage`` (both databases), no rate limit."""
    yield from _serve(storage, rate=0)


@pytest.fixture
def sqlite_server(sqlite_storage):
    """The real server over a SQLite file, no rate limit."""
    yield from _serve(sqlite_storage, rate=0)


@pytest.fixture
def tokens(storage):
    """Tokens for stations A and B and an ERP integration."""
    return _tokens(storage)


@pytest.fixture
def sqlite_tokens(sqlite_storage):
    """Tokens for stations A and B and an ERP integration (SQLite server)."""
    return _tokens(sqlite_storage)


def _tokens(storage):
    return {
        "A": storage.db.add_station("A"),
        "B": storage.db.add_station("B"),
        "erp": storage.db.add_station("erp", "integration"),
    }


# --- the fault-injecting proxy ---------------------------------------------------

# answers spoiled on the way back: the server did the work, the client gets a broken or foreign answer
CUTS = ("short_body", "cut_chunk", "cut_json", "bad_gzip", "foreign_json")
ACTIONS = ("pass", "drop", "drop_after", "stall", "dup", "reorder", "500", "429", *CUTS)


class FaultProxy:
    """An HTTP/1.1 proxy on loopback that does something nasty to chosen requests.

    Per request it takes the next action from ``plan`` (a callable of the
    request number), one of:

    * ``pass``: forward, answer;
    * ``drop``: close the connection before forwarding (the server never sees it);
    * ``drop_after``: forward, let the server answer, close without answering
      (the client cannot know the server did the work);
    * ``stall``: forward, then keep the client waiting past its timeout;
    * ``dup``: forward twice, answer with the second answer;
    * ``reorder``: close at once, and forward the request later, after the next
      one (a late, out-of-order duplicate);
    * ``500`` / ``429``: answer that status without forwarding (429 with Retry-After: 1);
    * the answer spoiled after the server did the work (see :func:`_spoil`):
      ``short_body`` (a Content-Length larger than the body sent, then closed),
      ``cut_chunk`` (re-sent chunked, cut mid-chunk, closed), ``cut_json`` (a
      complete HTTP answer whose JSON body is cut in half), ``bad_gzip``
      (``Content-Encoding: gzip`` on a body that is not), ``foreign_json`` (a 200
      with JSON that is no answer of this API, as a captive portal gives).
    """

    def __init__(self, upstream_port: int, plan=None, stall_seconds: float = 1.5):
        self.upstream_port = upstream_port
        self.plan = plan or (lambda n: "pass")
        self.stall_seconds = stall_seconds
        self.counts: collections.Counter = collections.Counter()
        self.log: list[tuple[float, str]] = []  # (arrival, action) per request
        self._n = itertools.count()
        self._held: list[bytes] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._sock.close()
        for client in list(self._clients):
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        self._accepter.join(5)
        for t in self._threads:
            t.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            self._clients.append(client)
            t = threading.Thread(target=self._connection, args=(client,), daemon=True)
            self._threads.append(t)
            t.start()

    def _connection(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while not self._stop.is_set():
                request = _read_message(reader)
                if request is None:
                    return
                with self._lock:
                    action = self.plan(next(self._n))
                    held, self._held = self._held, []
                self.counts[action] += 1
                self.log.append((time.monotonic(), action))
                if action == "drop":
                    return
                if action == "reorder":
                    with self._lock:
                        self._held.append(request)
                    return
                if action in ("500", "429"):
                    body = b'{"detail":"injected by the test proxy"}'
                    extra = b"Retry-After: 1\r\n" if action == "429" else b""
                    client.sendall(
                        b"HTTP/1.1 "
                        + action.encode()
                        + b" Injected\r\nContent-Type: application/json\r\n"
                        + extra
                        + b"Content-Length: "
                        + str(len(body)).encode()
                        + b"\r\n\r\n"
                        + body
                    )
                    continue
                answer = self._forward(request)
                for late in held:  # the reordered ones arrive after this one
                    self._forward(late)
                if answer is None:
                    return
                if action == "dup":
                    answer = self._forward(request) or answer
                if action == "drop_after":
                    return
                if action == "stall":
                    self._stop.wait(self.stall_seconds)
                    return
                if action in CUTS:
                    spoiled, keep_open = _spoil(action, answer)
                    client.sendall(spoiled)
                    if keep_open:
                        continue
                    return
                client.sendall(answer)
        except OSError:
            return
        finally:
            reader.close()
            client.close()

    def _forward(self, request: bytes) -> bytes | None:
        try:
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as up:
                up.sendall(request)
                return _read_message(up.makefile("rb"))
        except OSError:
            return None


def _spoil(action: str, answer: bytes) -> tuple[bytes, bool]:
    """The server's answer as ``action`` spoils it, and whether the connection may stay open after it."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith((b"content-length:", b"connection:"))]
    half = body[: max(1, len(body) // 2)]

    def complete(headers: list[bytes], content: bytes) -> bytes:
        return b"\r\n".join([*headers, b"Content-Length: " + str(len(content)).encode()]) + b"\r\n\r\n" + content

    if action == "short_body":
        return b"\r\n".join([*lines, b"Content-Length: " + str(len(body)).encode()]) + b"\r\n\r\n" + half, False
    if action == "cut_chunk":
        return (
            b"\r\n".join([*lines, b"Transfer-Encoding: chunked"]) + b"\r\n\r\n" + f"{len(body):x}\r\n".encode() + half
        ), False
    if action == "cut_json":
        return complete(lines, half), True
    if action == "bad_gzip":
        return complete([*lines, b"Content-Encoding: gzip"], body), True
    return complete(
        [lines[0].split(b" ")[0] + b" 200 OK", b"Content-Type: application/json"],
        b'{"hello": "welcome to the warehouse wifi"}',
    ), True


def _read_message(reader) -> bytes | None:
    """One HTTP/1.1 request or response (headers + Content-Length body), raw."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = reader.read(length) if length else b""
    return head + body


@pytest.fixture
def fault_proxy():
    """Factory: ``fault_proxy(upstream_port, plan)`` -> a running :class:`FaultProxy`."""
    made = []

    def make(upstream_port: int, plan=None, **kw) -> FaultProxy:
        proxy = FaultProxy(upstream_port, plan, **kw)
        made.append(proxy)
        return proxy

    yield make
    for p in made:
        p.close()


@pytest.fixture
def random_faults():
    """Factory of plans: each request faulty with probability ``rate``, the fault drawn at random (seeded)."""

    def plan(seed: int, rate: float = 0.3, actions=ACTIONS[1:]):
        rng = random.Random(seed)
        lock = threading.Lock()

        def choose(_n: int) -> str:
            with lock:
                return rng.choice(actions) if rng.random() < rate else "pass"

        return choose

    return plan


# --- stations ----------------------------------------------------------------------


@pytest.fixture
def make_station(tmp_path):
    """Factory: a station database with ``n`` events of its own (receipts of unknown parcels)."""
    from sync.store import Store

    opened = []

    def make(name: str, events: int = 0) -> Store:
        store = Store(tmp_path / f"station-{name}.db")
        opened.append(store)
        with store.write() as conn:
            for i in range(events):
                store._append(conn, "parcel.unexpected", name, "op1", {"scanned": f"{name}-PARCEL-{i}"})
        return store

    yield make
    for s in opened:
        s.close()


def wait_until(condition, timeout: float = 30.0, every: float = 0.02) -> bool:
    """Poll ``condition`` until true (for state to be reached, never to assert speed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def until():
    """``until(condition, timeout)``: wait for a state (a test helper, not a timing assertion)."""
    return wait_until


@pytest.fixture
def received_station(sqlite_storage, sqlite_server, sqlite_tokens, make_station):
    """Factory: station A, with ``record`` imported on the real (SQLite) server, pulled, and received; (station,
    client). ``held(*event_ids)`` then gives the payloads the server holds for those events."""
    import requests

    from sync.client import SyncClient

    def make(record: dict):
        answer = requests.post(
            f"{sqlite_server.url}/api/v1/rmas",
            json={"rmas": [record]},
            headers={"Authorization": f"Bearer {sqlite_tokens['erp']}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        station, client = make_station("A"), SyncClient(sqlite_server.url, sqlite_tokens["A"])
        client.sync(station)
        station.receive(record["rma_code"], "A", "op1")
        return station, client

    def held(*event_ids: str) -> dict[str, dict]:
        import json

        import sqlalchemy as sa

        from server.db import events

        with sqlite_storage.db.read() as conn:
            rows = conn.execute(
                sa.select(events.c.event_id, events.c.payload).where(events.c.event_id.in_(event_ids))
            ).all()
        return {event_id: json.loads(payload) for event_id, payload in rows}

    make.held = held  # type: ignore[attr-defined]
    return make
