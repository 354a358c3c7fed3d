"""Answers cut short or spoiled on the way back (the fault proxy's CUTS): every one is a passing failure,
retried, with nothing lost; `rma sync --once` says so in one line, `--watch` and the station's worker go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from textual.content import Content

from sync.client import Retryable
from terminal.sync_worker import SyncWorker
from tests.sync.conftest import CUTS
from tests.sync.test_sync_exactly_once import client_for, outbox

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]  # the `rma` console script
ENV = os.environ | {"RMA_STATION_CONFIG": os.devnull}


@pytest.mark.parametrize("cut", CUTS)
def test_a_spoiled_answer_is_retried_and_nothing_is_lost(sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy,
                                                         make_station, cut):
    a = make_station("A", events=30)
    proxy = fault_proxy(sqlite_server.port, lambda n: cut if n in (0, 2, 4) else "pass")
    report = client_for(proxy.url, sqlite_tokens["A"], batch=10, attempts=3).sync(a)
    assert proxy.counts[cut] == 3
    assert report.waiting == 0
    assert sqlite_storage.db.station_events("A") == outbox(a)


@pytest.mark.parametrize("cut", CUTS)
def test_a_server_whose_answers_are_always_spoiled_is_a_passing_failure(sqlite_server, sqlite_tokens, fault_proxy,
                                                                        make_station, cut):
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
        done = subprocess.run([*RMA, "sync", "--once", "--db", str(a.path), "--server", proxy.url, "--token",
                               sqlite_tokens["A"], "--retries", "1"], capture_output=True, text=True, timeout=120,
                              env=ENV)
        assert done.returncode == 1 and "Traceback" not in done.stderr, (cut, done.stderr)
        [line] = done.stderr.splitlines()
        assert line.startswith("rma: ") and "3 event(s) waiting, all kept" in line, (cut, line)


def test_sync_watch_goes_on_through_spoiled_answers(sqlite_storage, sqlite_server, sqlite_tokens, fault_proxy,
                                                    make_station, until):
    a = make_station("A", events=20)
    proxy = fault_proxy(sqlite_server.port, lambda n: CUTS[n] if n < len(CUTS) else "pass")
    watch = subprocess.Popen([*RMA, "sync", "--watch", "--interval", "0.05", "--retries", "0", "--db", str(a.path),
                              "--server", proxy.url, "--token", sqlite_tokens["A"]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
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


def test_station_worker_shows_the_spoiled_answer_and_goes_on(sqlite_storage, sqlite_server, sqlite_tokens,
                                                             fault_proxy, make_station):
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
