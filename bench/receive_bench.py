"""Receiving at scale: scan-to-screen latency, start-up time and memory on a big station database.

    .venv/bin/python bench/receive_bench.py [--rmas 1000000] [--events 1000000] [--scans 500]

Builds (once, cached in bench/out/) a station database with N RMAs (one or two
lines and a tracking number each) and N outbox events, then starts the real
station app headless in a fresh process and measures:

* start-up: from the process being spawned to the receive screen ready to scan
  (database opened on its thread, header counts read);
* scan-to-screen: from the Enter of a scanner burst to the outcome on screen,
  p50/p99 over a mix of RECEIVED, ALREADY RECEIVED, NOT EXPECTED, tracking
  number with routing prefix, order reference and NOT AN RMA scans;
* resident memory (VmHWM, the peak) of that process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync.clock import utc_now  # noqa: E402
from sync.store import TRACKING_TAIL, Store  # noqa: E402


def build(path: Path, rmas: int, events: int) -> None:
    """Write the big database with plain executemany in large transactions."""
    if path.exists():
        return
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    print(f"building {path} ({rmas:,} RMAs, {events:,} events) ...", flush=True)
    started = time.perf_counter()
    Store(tmp).close()  # schema
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # building only; the station itself runs FULL
    now = utc_now()
    rng = random.Random(1)
    step = 100_000
    for start in range(0, rmas, step):
        rows, lines, tracking = [], [], []
        for n in range(start, min(rmas, start + step)):
            code = f"RMA-{n:08d}"
            order = f"SO-{n:08d}"
            status = "cancelled" if n % 50 == 0 else "authorized"
            rows.append((code, order, order, f"Customer {n}", "wrong size", status, now))
            for line_no in range(1, 2 + (n % 3 == 0)):
                lines.append((code, line_no, f"SKU-{n % 9999}", "", "Item", 1, "apparel"))
            number = f"1Z{n:016d}"
            tracking.append((number, number[-TRACKING_TAIL:], code))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO rmas (code, order_ref, order_key, customer_name, reason, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO rma_lines (rma_code, line_no, sku, gtin, description, qty, category) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            lines,
        )
        conn.executemany("INSERT INTO tracking_numbers VALUES (?, ?, ?)", tracking)
        conn.execute("COMMIT")
    for start in range(0, events, step):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO outbox (id, type, station, operator, at, rma_code, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    str(uuid.UUID(int=rng.getrandbits(128))),
                    "rma.received",
                    "bench-old",
                    "op",
                    "2026-01-01T00:00:00.000+00:00",
                    f"RMA-{n:08d}",
                    json.dumps({"scanned": f"RMA-{n:08d}"}),
                )
                for n in range(start, min(events, start + step))
            ),
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)


def scan_mix(rmas: int, count: int) -> list[str]:
    """Realistic scans: mostly new receipts, some repeats, unknowns, tracking numbers and item barcodes."""
    rng = random.Random(2)
    scans = []
    for i in range(count):
        n = rng.randrange(1, rmas)
        kind = i % 10
        if kind < 5:
            scans.append(f"RMA-{n:08d}")
        elif kind == 5:
            scans.append(scans[-1] if scans else f"RMA-{n:08d}")  # already received
        elif kind == 6:
            scans.append(f"420902101Z{n:016d}")  # carrier prefix + tracking number
        elif kind == 7:
            scans.append(f"so-{n:08d}")  # order reference
        elif kind == 8:
            scans.append(f"UNKNOWN-{uuid.uuid4().hex[:10]}")  # not expected
        else:
            scans.append("4006381333931")  # an item barcode: NOT AN RMA
    return scans


def in_fresh_process(script: str, work: Path, scans: list) -> dict:
    """Run ``script --child`` on the database ``work`` (a bench operator registered in it: only registered
    operators sign in) with these scans, in a fresh process; the JSON its last line of output holds."""
    with Store(work) as store:
        store.add_operator("bench-op", "Bench operator", "clerk")
    spawned_at = time.time()
    done = subprocess.run(
        [sys.executable, script, "--child", json.dumps([spawned_at, str(work), scans])],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode:
        sys.exit(done.stderr)
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_database_jobs(app) -> list[tuple[float, float]]:
    """Wrap the app's database runner: the list fills with (start, seconds) of every database job."""
    db_times: list[tuple[float, float]] = []
    original_run = app.db.run

    async def timed_run(fn):
        started = time.monotonic()
        try:
            return await original_run(fn)
        finally:
            db_times.append((started, time.monotonic() - started))

    app.db.run = timed_run
    return db_times


async def run_station(db: str, scans: list[str], spawned_at: float) -> dict:
    """Inside the measured process: start the app, scan, report figures."""
    from textual import events

    from terminal.app import make_app
    from terminal.config import Settings
    from terminal.screens.receive import ReceiveScreen
    from terminal.widgets.outcome_banner import OutcomeBanner
    from terminal.widgets.status_bar import StatusBar

    app = make_app(Settings(station="bench-1", db=db, sources={"db": "flag"}))
    db_times = time_database_jobs(app)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, ReceiveScreen) and app.screen.query_one(StatusBar).station):
            await asyncio.sleep(0.001)
        startup = time.time() - spawned_at
        app.sign_in("bench-op")
        while not app.operator:
            await asyncio.sleep(0.001)
        screen = app.screen
        banner = screen.query_one(OutcomeBanner)
        latencies = []
        outcomes: dict[str, int] = {}
        for text in scans:
            before = screen.handled
            for ch in text:
                app.post_message(events.Key(ch if ch.isalnum() else {"-": "minus"}.get(ch, ch), ch))
            await pilot.pause()  # the burst's characters are in the field
            enter_at = time.monotonic()
            app.post_message(events.Key("enter", "\r"))
            while screen.handled == before:
                await asyncio.sleep(0)
            latencies.append(banner.shown_at - enter_at)
            if os.environ.get("BENCH_DEBUG") and latencies[-1] > 0.02:
                jobs = [round(d * 1000, 1) for t, d in db_times if t >= enter_at - 0.5]
                print(f"slow {latencies[-1] * 1000:.0f} ms {text!r} db jobs {jobs}", file=sys.stderr)
            outcomes[banner.word] = outcomes.get(banner.word, 0) + 1
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    return {"startup_s": startup, "latencies": latencies, "outcomes": outcomes, "peak_rss_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rmas", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spawned_at, db, scans = json.loads(args.child)
        print(json.dumps(asyncio.run(run_station(db, scans, spawned_at))))
        return

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    big = out / f"receive-{args.rmas}-{args.events}.db"
    build(big, args.rmas, args.events)
    work = out / "receive-run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    subprocess.run(["cp", "--reflink=auto", str(big), str(work)], check=True)
    result = in_fresh_process(__file__, work, scan_mix(args.rmas, args.scans))
    lat = sorted(x * 1000 for x in result["latencies"])
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"database: {args.rmas:,} RMAs, {args.events:,} outbox events, {big.stat().st_size / 2**20:.0f} MiB")
    print(f"start-up to ready to scan: {result['startup_s']:.2f} s   (target < 1.5 s)")
    print(
        f"scan-to-screen over {len(lat)} scans: p50 {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms, "
        f"max {lat[-1]:.1f} ms   (target p99 < 50 ms)"
    )
    print(f"outcomes: {result['outcomes']}")
    print(f"peak resident memory: {result['peak_rss_mb']:.0f} MB   (target < 200 MB)")


if __name__ == "__main__":
    main()
