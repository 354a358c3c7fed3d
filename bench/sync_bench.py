"""Sync benchmark: ingest, pull, and 100 stations pushing at once, against SQLite and PostgreSQL.

    .venv/bin/python bench/sync_bench.py                 # both databases, full size
    .venv/bin/python bench/sync_bench.py --db sqlite --events 20000 --rmas 20000 --stations 20

The server runs as its own process (`rma server`, no rate limit) on a loopback
port; PostgreSQL is a throw-away cluster from the machine's binaries with
fsync ON (as SQLite's synchronous=FULL).  Stations are real SQLite files.
Latency is per HTTP request (``requests``' ``elapsed``: sent -> answer headers).
After each phase the server's events are compared with every outbox: any
duplicate or missing event is reported (and fails the run).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.db import ServerDb
from sync.client import SyncClient
from sync.store import Store
from tests.helpers.local_postgres import LocalPostgres, free_port

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]


def make_station(path: Path, name: str, events: int) -> None:
    """A station database with ``events`` receipts of unexpected parcels (realistic size)."""
    with Store(path) as store, store.write() as conn:
        for i in range(events):
            store._append(conn, "parcel.unexpected", name, "op1", {"scanned": f"1Z{name}{i:09d}", "source": "wedge"})


def start_server(url: str, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [*RMA, "server", "--db", url, "--port", str(port), "--rate", "0", "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{base}/api/v1/health", timeout=1).raise_for_status()
            return proc, base
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


def timed_client(base: str, token: str, latencies: list, **kw) -> SyncClient:
    client = SyncClient(base, token, **kw)
    client.session.hooks["response"].append(lambda r, *a, **k: latencies.append(r.elapsed.total_seconds()))
    return client


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def check_exactly_once(db: ServerDb, stations: dict[str, Path]) -> tuple[int, int]:
    """(duplicates, losses) over all stations."""
    dup = lost = 0
    for name, path in stations.items():
        held = db.station_events(name)
        with Store(path) as s:
            mine = [(e.seq, e.id) for e in s.events(0, 10**9)]
        dup += len(held) - len(set(held))
        lost += len(set(mine) - set(held))
    return dup, lost


def station_worker(args) -> list[tuple[float, int]]:
    """In a child process: push several stations' outboxes, one thread each; returns (latency, events).

    ``pace`` 0: every station pushes its whole outbox as fast as the server takes it (saturation).
    ``pace`` > 0: a station records ``pace`` events a second and pushes what it has once a second,
    as a busy bench would (the outbox grows while it runs).
    """
    base, jobs, batch, pace, seconds = args
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))

    def run(path: str, token: str) -> None:
        lat: list[float] = []
        client = timed_client(base, token, lat, batch=batch, attempts=10, backoff=0.05)
        with Store(path) as store:
            name = Path(path).stem
            start.wait()
            if not pace:
                client.sync(store, pull=False)
            else:
                time.sleep(random.random())  # stations do not tick in step
                t0 = time.monotonic()
                for tick in range(seconds):
                    with store.write() as conn:
                        for i in range(pace):
                            store._append(conn, "parcel.unexpected", name, "op1", {"scanned": f"{tick}-{i}"})
                    client.sync(store, pull=False)
                    time.sleep(max(0.0, t0 + tick + 1 - time.monotonic()))
            assert store.unsent_count() == 0
        client.close()
        with lock:
            results.extend((x, batch) for x in lat)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def bench(kind: str, url: str, a: argparse.Namespace, work: Path) -> dict:
    db = ServerDb(url)
    tokens = {f"st{i:03d}": db.add_station(f"st{i:03d}") for i in range(a.stations)}
    tokens["one"] = db.add_station("one")
    erp = db.add_station("erp", "integration")
    workers = a.pg_workers if kind == "postgresql" else 1
    proc, base = start_server(url, workers)
    out: dict = {"db": kind + (f", {workers} server processes" if workers > 1 else "")}
    try:
        # 1. one station pushes its outbox
        make_station(work / "one.db", "one", a.events)
        lat: list[float] = []
        client = timed_client(base, tokens["one"], lat, batch=a.batch)
        with Store(work / "one.db") as store:
            t = time.perf_counter()
            client.sync(store)
            took = time.perf_counter() - t
        out["push_events_per_s"] = a.events / took
        out["push_p50_ms"], out["push_p99_ms"] = pct(lat, 50), pct(lat, 99)
        out["push_dup_lost"] = check_exactly_once(db, {"one": work / "one.db"})

        # 2. 100,000 RMAs into an empty station
        t = time.perf_counter()
        session = requests.Session()
        for start in range(0, a.rmas, 1000):
            records = [
                {
                    "rma_code": f"RMA-{i:07d}",
                    "order_ref": f"SO-{i:07d}",
                    "customer_name": "Jo Bench",
                    "reason": "wrong size",
                    "status": "authorized",
                    "tracking_numbers": [f"1ZRMA{i:010d}"],
                    "lines": [{"sku": "SKU-1", "gtin": "4006381333931", "qty": 1, "category": "shoes"}],
                }
                for i in range(start, min(a.rmas, start + 1000))
            ]
            session.post(
                f"{base}/api/v1/rmas", json={"rmas": records}, timeout=60, headers={"Authorization": f"Bearer {erp}"}
            ).raise_for_status()
        out["import_rmas_per_s"] = a.rmas / (time.perf_counter() - t)
        lat = []
        puller = timed_client(base, tokens["st000"], lat, page=2000)
        with Store(work / "empty.db") as store:
            t = time.perf_counter()
            puller.sync(store)
            took = time.perf_counter() - t
            got = store.conn.execute("SELECT count(*) FROM rmas").fetchone()[0]
        out["pull_rmas_per_s"] = a.rmas / took
        out["pull_p50_ms"], out["pull_p99_ms"] = pct(lat, 50), pct(lat, 99)
        out["pull_missing"] = a.rmas - got

        # 3. N stations push at once (from several processes: the clients need CPU too)
        paths = {f"st{i:03d}": work / f"st{i:03d}.db" for i in range(a.stations)}
        for name, path in paths.items():
            make_station(path, name, a.per_station)
        groups = [[(str(p), tokens[n]) for n, p in list(paths.items())[g :: a.procs]] for g in range(a.procs)]
        with ProcessPoolExecutor(a.procs) as pool:
            for mode, pace in (("many", 0), ("paced", a.pace)):
                t = time.perf_counter()
                jobs = [(base, g, a.station_batch, pace, a.seconds) for g in groups if g]
                results = [r for part in pool.map(station_worker, jobs) for r in part]
                took = time.perf_counter() - t
                lats = [r[0] for r in results if r[0] > 0]
                sent = a.stations * (a.per_station if not pace else pace * a.seconds)
                out[f"{mode}_events_per_s"] = sent / took
                out[f"{mode}_p50_ms"], out[f"{mode}_p99_ms"] = pct(lats, 50), pct(lats, 99)
                out[f"{mode}_requests"] = len(lats)
                out[f"{mode}_dup_lost"] = check_exactly_once(db, paths)
    finally:
        proc.terminate()
        proc.wait(20)
        db.close()
    return out


def server_databases(choice: str):
    """For "sqlite", "postgresql" or "both": (kind, server database URL, work folder), cleaned up after use.

    PostgreSQL is a throw-away cluster from Debian's binaries with fsync on.
    """
    for kind in ["sqlite", "postgresql"] if choice == "both" else [choice]:
        work = Path(tempfile.mkdtemp(prefix=f"rma-bench-{kind}-"))
        pg = None
        try:
            if kind == "sqlite":
                url = str(work / "server.db")
            else:
                pg = LocalPostgres(fsync=True).start()
                url = pg.create_database("bench")
            print(f"-- {kind}: running", file=sys.stderr, flush=True)
            yield kind, url, work
        finally:
            if pg:
                pg.stop()
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--events", type=int, default=100_000, help="events pushed by one station")
    p.add_argument("--batch", type=int, default=1000, help="events per push request (one station)")
    p.add_argument("--rmas", type=int, default=100_000, help="RMAs pulled into an empty station")
    p.add_argument("--stations", type=int, default=100, help="stations pushing at once")
    p.add_argument("--per-station", type=int, default=500, help="events each of them pushes")
    p.add_argument("--station-batch", type=int, default=50, help="events per push request (many stations)")
    p.add_argument("--procs", type=int, default=4, help="client processes simulating the stations")
    p.add_argument("--pg-workers", type=int, default=1, help="server processes in front of PostgreSQL")
    p.add_argument("--pace", type=int, default=5, help="paced run: events per second per station")
    p.add_argument("--seconds", type=int, default=20, help="paced run: how long")
    a = p.parse_args()
    rows = [bench(kind, url, a, work) for kind, url, work in server_databases(a.db)]
    print(
        f"machine: {os.cpu_count()} cores; one station {a.events} events (batch {a.batch}); "
        f"pull {a.rmas} RMAs; {a.stations} stations x {a.per_station} events (batch {a.station_batch})"
    )
    for r in rows:
        print(f"[{r['db']}]")
        print(
            f"  push, 1 station : {r['push_events_per_s']:8.0f} events/s   p50 {r['push_p50_ms']:6.1f} ms  "
            f"p99 {r['push_p99_ms']:6.1f} ms per request   duplicates/losses {r['push_dup_lost']}"
        )
        print(f"  import RMAs     : {r['import_rmas_per_s']:8.0f} RMAs/s (ERP, 1000 per request)")
        print(
            f"  pull, empty stn : {r['pull_rmas_per_s']:8.0f} RMAs/s     p50 {r['pull_p50_ms']:6.1f} ms  "
            f"p99 {r['pull_p99_ms']:6.1f} ms per page    missing {r['pull_missing']}"
        )
        print(
            f"  {a.stations} st., flat out: {r['many_events_per_s']:8.0f} events/s   p50 {r['many_p50_ms']:6.1f} ms  "
            f"p99 {r['many_p99_ms']:6.1f} ms per request ({r['many_requests']} requests)   "
            f"duplicates/losses {r['many_dup_lost']}"
        )
        print(
            f"  {a.stations} st., paced: {r['paced_events_per_s']:8.0f} events/s   p50 {r['paced_p50_ms']:6.1f} ms  "
            f"p99 {r['paced_p99_ms']:6.1f} ms per request ({r['paced_requests']} requests)   "
            f"duplicates/losses {r['paced_dup_lost']}   ({a.pace} events/s per station, pushed every second)"
        )
    bad = [
        r
        for r in rows
        if r["pull_missing"] or any(r[k] != (0, 0) for k in ("push_dup_lost", "many_dup_lost", "paced_dup_lost"))
    ]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
