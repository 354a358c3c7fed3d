"""When a station pushes (issue 14, the station's side): never with nothing new; at once on a quiet link;
after a slow answer, the next receipts wait (at most a second) to go in one push.

The server is the real one on a loopback port; a recording proxy in between counts what the station sent
and makes answers slow on a real socket.  The tests count requests and events, they time nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.client import MAX_HOLD, SLOW_ANSWER, PushPacing
from terminal.sync_worker import SyncWorker
from tests.helpers.recording_proxy import RecordingProxy

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]  # the `rma` console script
ENV = os.environ | {"RMA_STATION_CONFIG": os.devnull}
SLOW = SLOW_ANSWER + 0.4  # an answer the station must take as slow, however busy this machine is


@pytest.fixture
def recording_proxy():
    made: list[RecordingProxy] = []

    def make(upstream_port: int, delay=None, after=None) -> RecordingProxy:
        made.append(RecordingProxy(upstream_port, delay, after))
        return made[-1]

    yield make
    for p in made:
        p.close()


def record(store, n: int, worker: SyncWorker | None = None, name: str = "P") -> None:
    """``n`` receipts, each followed by the nudge the app gives the worker after a write."""
    for i in range(n):
        with store.write() as conn:
            store._append(conn, "parcel.unexpected", "A", "op1", {"scanned": f"{name}-{i}"})
        if worker is not None:
            worker.sync_now()


def sync_watch(store, proxy: RecordingProxy, token: str) -> subprocess.Popen:
    """`rma sync --watch` of ``store`` through ``proxy``, rounds 0.02 s apart."""
    return subprocess.Popen(
        [
            *RMA,
            "sync",
            "--watch",
            "--interval",
            "0.02",
            "--db",
            str(store.path),
            "--server",
            proxy.url,
            "--token",
            token,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


class Rounds:
    """The worker's reports, counted (each is one finished round)."""

    def __init__(self):
        self.seen: list = []
        self.lock = threading.Lock()

    def __call__(self, status) -> None:
        with self.lock:
            self.seen.append(status)

    def __len__(self) -> int:
        with self.lock:
            return len(self.seen)


def test_an_idle_station_worker_never_pushes(sqlite_server, sqlite_tokens, make_station, recording_proxy, until):
    a = make_station("A", events=3)
    proxy = recording_proxy(sqlite_server.port)
    rounds = Rounds()
    worker = SyncWorker(a.path, proxy.url, sqlite_tokens["A"], rounds, interval=0.02)
    worker.start()
    try:
        assert until(lambda: len(rounds) >= 12, 60)
    finally:
        worker.stop()
    assert [p.events for p in proxy.pushes()] == [3]  # the three it had, once; then nothing new, no push
    assert proxy.count("GET", "/changes") >= 12  # it kept syncing all the while


def test_sync_watch_with_nothing_new_does_not_push(sqlite_server, sqlite_tokens, make_station, recording_proxy, until):
    a = make_station("A", events=2)
    proxy = recording_proxy(sqlite_server.port)
    watch = sync_watch(a, proxy, sqlite_tokens["A"])
    try:
        assert until(lambda: proxy.count("GET", "/changes") >= 12 or watch.poll() is not None, 90)
    finally:
        watch.send_signal(signal.SIGTERM)
        _, errors = watch.communicate(timeout=60)
    assert watch.returncode == 0, errors
    assert [p.events for p in proxy.pushes()] == [2]


def test_on_a_quiet_link_each_receipt_is_pushed_at_once(
    sqlite_server, sqlite_tokens, make_station, recording_proxy, until
):
    a = make_station("A")
    proxy = recording_proxy(sqlite_server.port)
    rounds = Rounds()
    worker = SyncWorker(a.path, proxy.url, sqlite_tokens["A"], rounds, interval=60)
    worker.start()
    try:
        assert until(lambda: len(rounds) >= 1, 30)
        for i in range(3):  # the next receipt only once the last is on the server: each is its own push
            before = len(rounds)
            record(a, 1, worker, name=f"Q{i}")
            assert until(lambda before=before: a.unsent_count() == 0 and len(rounds) > before, 30)  # round over
        assert [p.events for p in proxy.pushes()] == [1, 1, 1]
        # a receipt, a pause a clerk takes for the next parcel, another: fast answers hold nothing back
        record(a, 1, worker, name="R")
        threading.Event().wait(0.3)
        record(a, 1, worker, name="S")
        assert until(lambda: a.unsent_count() == 0, 30)
    finally:
        worker.stop()
    assert [p.events for p in proxy.pushes()] == [1, 1, 1, 1, 1]


def test_after_a_slow_answer_the_next_receipts_go_in_one_push(
    sqlite_server, sqlite_tokens, make_station, recording_proxy, until
):
    a = make_station("A")
    slow: list[int] = []

    def delay(r):  # the first push is answered slowly (a busy server); every later answer is quick
        if r.events and not slow:
            slow.append(r.number)
            return SLOW
        return 0

    proxy = recording_proxy(sqlite_server.port, delay)
    rounds = Rounds()
    worker = SyncWorker(a.path, proxy.url, sqlite_tokens["A"], rounds, interval=60)
    worker.start()
    try:
        assert until(lambda: len(rounds) >= 1, 30)
        record(a, 1, worker, name="Q")  # pushed at once: the link was quiet
        assert until(lambda: a.unsent_count() == 0 and len(rounds) >= 2, 30)  # and its round is over
        assert [p.events for p in proxy.pushes()] == [1]
        # the answer was slow: the next receipt waits for more (up to a second) before it is pushed
        record(a, 1, worker, name="R")
        threading.Event().wait(0.3)  # the clerk's next parcels, a moment later
        record(a, 2, worker, name="S")
        assert until(lambda: a.unsent_count() == 0 and len(rounds) >= 3, 30)
        assert [p.events for p in proxy.pushes()] == [1, 3]
        # that answer was quick again: the next receipt goes at once, alone
        record(a, 1, worker, name="T")
        threading.Event().wait(0.3)
        record(a, 1, worker, name="U")
        assert until(lambda: a.unsent_count() == 0, 30)
    finally:
        worker.stop()
    assert [p.events for p in proxy.pushes()] == [1, 3, 1, 1]


def test_sync_watch_waits_for_more_after_a_slow_answer(
    sqlite_server, sqlite_tokens, make_station, recording_proxy, until
):
    a = make_station("A", events=1)
    slow: list[int] = []  # the number of the push answered slowly: the first
    round_over = threading.Event()  # set once the round of that push has pulled (its last request)

    def delay(r):
        if r.events and not slow:
            slow.append(r.number)
            return SLOW
        return 0

    def after(r):
        if slow and r.number > slow[0] and r.path.endswith("/changes"):
            round_over.set()

    proxy = recording_proxy(sqlite_server.port, delay, after)
    watch = sync_watch(a, proxy, sqlite_tokens["A"])
    try:
        assert round_over.wait(60)
        record(a, 1, name="R")  # just after the slow round
        threading.Event().wait(0.3)  # the clerk's next parcels, a moment later
        record(a, 2, name="S")
        assert until(lambda: a.unsent_count() == 0 or watch.poll() is not None, 60)
    finally:
        watch.send_signal(signal.SIGTERM)
        _, errors = watch.communicate(timeout=60)
    assert watch.returncode == 0, errors
    # rounds 0.02 s apart would have sent R alone; after the slow answer the round waited for more
    assert [p.events for p in proxy.pushes()] == [1, 3]


@given(
    answer=st.floats(0, 30),
    gap=st.floats(0, 60),  # from the answer to the first receipt waiting
    later=st.floats(0, 5),  # from that receipt to now
)
def test_a_receipt_never_waits_more_than_max_hold(answer, gap, later):
    pacing = PushPacing()
    pacing.answered(answer, at=100.0)
    receipt = 100.0 + gap
    hold = pacing.delay(receipt, now=receipt + later)
    assert hold >= 0 and later + hold <= max(MAX_HOLD, later) + 1e-9  # never past a second after the receipt
    if answer <= SLOW_ANSWER:
        assert hold == 0  # a quick answer holds nothing back
