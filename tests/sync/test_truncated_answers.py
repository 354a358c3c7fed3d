"""Answers cut short or spoiled on the way back (the fault proxy's CUTS): every one is a passing failure,
retried, with nothing lost; `rma sync --once` says so in one line, `--watch` and the station's worker go on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
from textual.content import Content

from sync.client import Retryable
from terminal.sync_worker import SyncWorker
from tests.helpers.server_thread import ServerThread
from tests.helpers.tls import server_certificate
from tests.sync.conftest import CUTS
from tests.sync.test_sync_exactly_once import client_for, outbox

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]  # the `rma` console script
ENV = os.environ | {"RMA_STATION_CONFIG": os.devnull}


@pytest.mark.parametrize("cut", CUTS)
def test_a_spoiled_answer_is_retried_and_nothing_is_lost(
    sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy, make_station, cut
):
    a = make_station("A", events=30)
    proxy = fault_proxy(sqlite_server.port, lambda n: cut if n in (0, 2, 4) else "pass")
    report = client_for(proxy.url, sqlite_tokens["A"], batch=10, attempts=3).sync(a)
    assert proxy.counts[cut] == 3
    assert report.waiting == 0
    assert sqlite_storage.db.station_events("A") == outbox(a)


@pytest.mark.parametrize("cut", CUTS)
def test_a_server_whose_answers_are_always_spoiled_is_a_passing_failure(
    sqlite_server, sqlite_tokens, fault_proxy, make_station, cut
):
    a = make_station("A", events=3)
    proxy = fault_proxy(sqlite_server.port, lambda n: cut)
    with pytest.raises(Retryable) as failed:
        client_for(proxy.url, sqlite_tokens["A"], attempts=2).sync(a)
    assert "\n" not in str(failed.value) and "server" in str(failed.value)
    assert proxy.counts[cut] == 2 and a.unsent_count() == 3


def test_sync_once_ends_with_one_line_and_exit_1(sqlite_server, sqlite_tokens, fault_proxy, make_station):
    a = make_station("A", events=3)
    for cut in CUTS:
        proxy = fault_proxy(sqlite_server.port, lambda n, cut=cut: cut)
        done = subprocess.run(
            [
                *RMA,
                "sync",
                "--once",
                "--db",
                str(a.path),
                "--server",
                proxy.url,
                "--token",
                sqlite_tokens["A"],
                "--retries",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=ENV,
        )
        assert done.returncode == 1 and "Traceback" not in done.stderr, (cut, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith("rma: ") and "3 events waiting, nothing lost" in line, (cut, line)


def test_sync_watch_goes_on_through_spoiled_answers(
    sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy, make_station, until
):
    a = make_station("A", events=20)
    proxy = fault_proxy(sqlite_server.port, lambda n: CUTS[n] if n < len(CUTS) else "pass")
    watch = subprocess.Popen(
        [
            *RMA,
            "sync",
            "--watch",
            "--interval",
            "0.05",
            "--retries",
            "0",
            "--db",
            str(a.path),
            "--server",
            proxy.url,
            "--token",
            sqlite_tokens["A"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert until(lambda: len(sqlite_storage.db.station_events("A")) == 20 or watch.poll() is not None, 90)
        assert watch.poll() is None, watch.stderr.read()
        assert all(proxy.counts[cut] == 1 for cut in CUTS)
    finally:
        watch.send_signal(signal.SIGTERM)
        _, errors = watch.communicate(timeout=60)
    assert watch.returncode == 0 and "Traceback" not in errors, errors
    lines = errors.splitlines()
    assert len(lines) == len(CUTS) and all(ln.startswith("rma sync: ") for ln in lines), errors
    assert sqlite_storage.db.station_events("A") == outbox(a)


def test_station_worker_shows_the_spoiled_answer_and_goes_on(
    sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy, make_station
):
    a = make_station("A", events=10)
    proxy = fault_proxy(sqlite_server.port, lambda n: "cut_chunk" if n < 2 else "pass")  # the worker tries twice
    statuses, settled = [], threading.Event()

    def report(status) -> None:
        statuses.append(status)
        if status.online and status.waiting == 0:
            settled.set()

    worker = SyncWorker(a.path, proxy.url, sqlite_tokens["A"], report, interval=0.05)
    worker.start()
    try:
        assert settled.wait(60)
        assert worker._thread.is_alive()
    finally:
        worker.stop()
    failed = statuses[0]
    assert not failed.online and failed.waiting == 10
    assert "cut short" in failed.last_error and "Error(" not in failed.last_error
    assert "cut short" in Content.from_markup(failed.text).plain  # shown as text in the header
    assert sqlite_storage.db.station_events("A") == outbox(a)


class TlsCutter:
    """A TCP relay in front of a TLS server that spoils the first connection's second answer.

    It reads TLS records (5-byte header: type, version, length): after the
    client's second burst of application data (its second request on the
    connection) the server's next record is spoiled, then both sockets close:
    ``cut`` passes on half of it (the answer ends mid-record), ``garble``
    flips bytes in it (the record fails its integrity check).  Later
    connections pass untouched.
    """

    def __init__(self, upstream_port: int, how: str):
        self.upstream_port, self.how, self.cut = upstream_port, how, 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _accept(self) -> None:
        first = True
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            state = {"phase": "handshake" if first else "pass"}
            first = False
            lock = threading.Lock()
            for args in ((client, upstream, state, lock, True), (upstream, client, state, lock, False)):
                t = threading.Thread(target=self._relay, args=args, daemon=True)
                t.start()

    def _relay(
        self, src: socket.socket, dst: socket.socket, state: dict, lock: threading.Lock, from_client: bool
    ) -> None:
        try:
            while True:
                header = _recv_exact(src, 5)
                payload = _recv_exact(src, int.from_bytes(header[3:5], "big"))
                cut = False
                with lock:
                    if header[0] == 23:  # application data
                        phase = state["phase"]
                        if from_client and phase in ("handshake", "answered"):
                            state["phase"] = "asked" if phase == "handshake" else "asked again"
                        elif not from_client and phase == "asked":
                            state["phase"] = "answered"
                        elif not from_client and phase == "asked again":
                            cut = True
                if cut:
                    if self.how == "cut":
                        dst.sendall(header + payload[: len(payload) // 2])
                    else:
                        dst.sendall(header + bytes(b ^ 0x5A for b in payload))
                    self.cut += 1
                    break
                dst.sendall(header + payload)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


@pytest.mark.parametrize("how", ["cut", "garble"])
def test_a_tls_answer_spoiled_on_the_way_is_a_passing_failure_not_a_certificate_problem(
    sqlite_storage, sqlite_tokens, tmp_path, make_station, how
):
    ca, cert, key = server_certificate(tmp_path)
    server = ServerThread(sqlite_storage.db, rate=0, tls_cert=str(cert), tls_key=str(key)).start()
    cutter = TlsCutter(server.port, how)
    try:
        a = make_station("A", events=5)
        client = client_for(f"https://127.0.0.1:{cutter.port}", sqlite_tokens["A"], ca_path=str(ca))
        report = client.sync(a)
        assert cutter.cut == 1  # the answer to the push was spoiled; the server had stored the events
        assert report.waiting == 0
        assert sqlite_storage.db.station_events("A") == outbox(a)
    finally:
        cutter.close()
        server.stop()


def test_sync_watch_goes_on_when_its_own_database_is_busy(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station, until
):
    """Another program holds the station database's write lock for a while: one line, then the events go."""
    import sqlite3

    a = make_station("A", events=5)
    holder = sqlite3.connect(a.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a writer that does not let go (a backup tool, a stuck process)
    watch = subprocess.Popen(
        [*RMA, "sync", "--watch", "--interval", "0.05", "--db", str(a.path), "--server", sqlite_server.url,
         "--token", sqlite_tokens["A"]],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(watch.stderr), daemon=True)
    reader.start()  # its lines as they come: a loaded machine may take a while to reach the lock
    try:
        assert until(lambda: said or watch.poll() is not None, 60), "no word from rma sync --watch"
        assert watch.poll() is None, said
        assert "busy" in said[0] or "locked" in said[0], said[0]
        holder.execute("ROLLBACK")
        assert until(lambda: len(sqlite_storage.db.station_events("A")) == 5 or watch.poll() is not None, 60)
        assert watch.poll() is None, said
    finally:
        holder.close()
        watch.send_signal(signal.SIGTERM)
        watch.wait(timeout=60)
        reader.join(timeout=10)
    assert watch.returncode == 0 and not any("Traceback" in line for line in said), said
    assert said and all(line.startswith("rma sync: ") for line in said), said
    assert sqlite_storage.db.station_events("A") == outbox(a)


def test_sync_once_with_its_database_busy_is_one_line_and_exit_1(sqlite_server, sqlite_tokens, make_station):
    import sqlite3

    a = make_station("A", events=2)
    holder = sqlite3.connect(a.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        done = subprocess.run(
            [*RMA, "sync", "--once", "--db", str(a.path), "--server", sqlite_server.url, "--token", sqlite_tokens["A"]],
            capture_output=True, text=True, timeout=120, env=ENV,
        )  # fmt: skip
    finally:
        holder.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("rma: ") and "locked by another program" in line, line
