"""`rma sync` and `rma server ...` as processes: a station killed mid-sync, tokens, bad input."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import requests

from server.db import ServerDb
from sync.store import Store

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]  # the `rma` console script


def rma_cmd(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RMA, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"RMA_STATION_CONFIG": os.devnull},
        **kw,
    )


def start_sync(db, url: str, token: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*RMA, "sync", "--watch", "--interval", "0.2", "--db", str(db), "--server", url, "--token", token],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | {"RMA_STATION_CONFIG": os.devnull},
    )


def pull_cursor(path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'pull_cursor'").fetchone()
    return int(row[0]) if row else 0


def test_station_killed_mid_push_and_mid_pull_resumes_exactly(
    sqlite_storage, sqlite_server, sqlite_tokens, make_station, until
):
    station = make_station("A", events=30_000)
    path = station.path
    records = [
        {"rma_code": f"RMA-{i:06d}", "status": "authorized", "lines": [{"sku": "S", "qty": 1}]} for i in range(20_000)
    ]
    for i in range(0, len(records), 1000):
        requests.post(
            f"{sqlite_server.url}/api/v1/rmas",
            json={"rmas": records[i : i + 1000]},
            timeout=30,
            headers={"Authorization": f"Bearer {sqlite_tokens['erp']}"},
        ).raise_for_status()
    db = sqlite_storage.db

    proc = start_sync(path, sqlite_server.url, sqlite_tokens["A"])
    assert until(lambda: db.station_status("A").acked_seq > 0, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    killed_at = db.station_status("A").acked_seq
    assert 0 < killed_at < 30_000, "not killed mid-push; the test proved nothing"

    proc = start_sync(path, sqlite_server.url, sqlite_tokens["A"])
    assert until(lambda: pull_cursor(path) > 0, timeout=60, every=0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert pull_cursor(path) < 20_000, "not killed mid-pull; the test proved nothing"

    done = rma_cmd("sync", "--once", "--db", str(path), "--server", sqlite_server.url, "--token", sqlite_tokens["A"])
    assert done.returncode == 0, done.stderr
    assert "0 waiting" in done.stdout
    with Store(path) as after:
        assert after.integrity_check() == "ok"
        assert db.station_events("A") == [(e.seq, e.id) for e in after.events(0, 10**9)]
        assert after.conn.execute("SELECT count(*) FROM rmas").fetchone()[0] == 20_000
        assert int(after.get_state("pull_cursor")) == 20_000


def test_add_station_prints_a_token_once_and_stores_only_its_hash(tmp_path):
    url = str(tmp_path / "server.db")
    made = rma_cmd("server", "--db", url, "add-station", "bench-1")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert len(token) >= 40
    raw = (
        (tmp_path / "server.db").read_bytes() + (tmp_path / "server.db-wal").read_bytes()
        if (tmp_path / "server.db-wal").exists()
        else (tmp_path / "server.db").read_bytes()
    )
    assert token.encode() not in raw
    db = ServerDb(url)
    assert db.station_for_token(token) == ("bench-1", "station")
    db.close()
    again = rma_cmd("server", "--db", url, "add-station", "bench-1")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "revoke it first" in again.stderr
    revoked = rma_cmd("server", "--db", url, "revoke-station", "bench-1")
    assert revoked.returncode == 0
    db = ServerDb(url)
    assert db.station_for_token(token) is None
    db.close()
    bad = rma_cmd("server", "--db", url, "add-station", "no spaces please")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_sync_command_bad_input_is_one_line(tmp_path):
    no_server = rma_cmd("sync", "--once", "--db", str(tmp_path / "s.db"))
    assert (
        no_server.returncode == 1
        and no_server.stderr.strip() == "rma: no server: pass --server URL or set server_url in the config file"
    )
    unreachable = rma_cmd(
        "sync",
        "--once",
        "--db",
        str(tmp_path / "s.db"),
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "t",
        "--retries",
        "1",
    )
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1
    assert "unreachable" in unreachable.stderr and "Traceback" not in unreachable.stderr
    bad_url = rma_cmd("sync", "--once", "--db", str(tmp_path / "s.db"), "--server", "ftp://x", "--token", "t")
    assert bad_url.returncode == 1 and "must start with https://" in bad_url.stderr
