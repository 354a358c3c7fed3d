"""License plates at scale: an LPN scan (lookup + put-away) on a station database of 1,000,000 plates.

    .venv/bin/python bench/lpn_bench.py [--lpns 1000000] [--scans 500] [--no-app] [--no-server]

Builds (once, cached in bench/out/) a station database with N inspected units, each with its
license plate (N RMAs of one line each, N inspections), with executemany in large transactions;
copies it, then, in one run, for the same random plates:

* raw: ``SELECT … FROM inspections WHERE lpn = ?`` on a plain sqlite3 connection (the floor);
* lookup: :meth:`Store.unit_by_lpn` (what a plate scan shows);
* scan: the plate looked up, then :meth:`Store.put_away` into a bin -- one transaction with its
  ``unit.put_away`` event, committed with ``synchronous=FULL`` as at the station.  One scan in ten
  is a wrong bin (refused, nothing written), one in twenty a plate on no unit here.

With the app part (default), the same scans through the real station app, headless in a fresh
process (as ``receive_bench.py`` measures receipts), on a fresh copy of the database: the put-away
screen (F12), each plate as a scanner burst and then, for a plate on a unit, the bin's label
(``BIN:<name>``) -- from the Enter of each burst to its outcome on screen (TO BIN / NOT INSPECTED,
then PUT AWAY / WRONG BIN).

With the server part (default), the same plates fill the server's ``handoff_units`` (SQLite),
and each put-away event is pushed through :meth:`ServerDb.push` (stored, projected into the feed
and the unit's place, committed): the server's share of the same scan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from receive_bench import in_fresh_process, time_database_jobs  # noqa: E402  (bench/, beside this script)

from sync.clock import utc_now  # noqa: E402
from sync.lpn import new_lpn  # noqa: E402
from sync.store import Store  # noqa: E402
from sync.store.putaway import PutAwayRefused  # noqa: E402

OUT = ROOT / "bench" / "out"
CHANNELS = ("restock", "b_stock", "refurbish", "return_to_vendor", "donate", "recycle", "destroy")
GRADES = {"restock": "resellable", "b_stock": "discounted"}
BINS = {c.upper().replace("_", "-"): [c] for c in CHANNELS}
BIN_OF = {c: c.upper().replace("_", "-") for c in CHANNELS}
EPOCH = 1_704_067_200  # 2024-01-01, the plates' clock
START = EPOCH + 3600 * 24 * 300  # the first unit's inspection (2024-10-27)


def plates(count: int) -> list[str]:
    """The units' plates: real plates (time + random bits + check character), the same on every build.

    A hundred units a second, so the plates' time part grows as the floor's does: the unique index
    is filled almost in order, as at a station.
    """
    rng = random.Random(1)
    return [new_lpn(now=START + n // 100, random_bits=rng.getrandbits(50)) for n in range(count)]


def inspected_at(count: int) -> list[str]:
    """When each unit's inspection ended: the time its plate was made (a hundred a second, long before today).

    Not today: the put-away's header counts today's inspections at the station (an index search on
    ``ended_at``), as many as a shift inspects, not the million a station has done since it opened.
    """
    stamps = [
        datetime.fromtimestamp(START + s, UTC).isoformat(timespec="milliseconds") for s in range(count // 100 + 1)
    ]
    return [stamps[n // 100] for n in range(count)]


def plate_of(conn: sqlite3.Connection, n: int) -> str:
    """The n-th unit's plate, read back from the station database (rows were written in order)."""
    return conn.execute("SELECT lpn FROM inspections WHERE rowid = ?", (n + 1,)).fetchone()[0]


def channel_of(n: int) -> str:
    return CHANNELS[n % len(CHANNELS)]


def build(path: Path, lpns: int) -> None:
    """The station database with ``lpns`` inspected units, each with its plate (executemany, big transactions)."""
    if path.exists():
        return
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    print(f"building {path} ({lpns:,} plates) ...", flush=True)
    started = time.perf_counter()
    Store(tmp).close()  # the schema, every migration
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # building only; the station itself runs FULL
    now = utc_now()
    step = 100_000
    every = plates(lpns)
    ended = inspected_at(lpns)
    for start in range(0, lpns, step):
        span = range(start, min(lpns, start + step))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO rmas (code, order_ref, order_key, status, stage, updated_at) "
            "VALUES (?, ?, ?, 'authorized', 'inspected', ?)",
            ((f"RMA-{n:08d}", f"SO-{n:08d}", f"SO-{n:08d}", now) for n in span),
        )
        conn.executemany(
            "INSERT INTO rma_lines (rma_code, line_no, sku, description, qty, category) "
            "VALUES (?, 1, ?, 'Item', 1, 'apparel')",
            ((f"RMA-{n:08d}", f"SKU-{n % 9999}") for n in span),
        )
        conn.executemany(
            "INSERT INTO inspections (event_id, rma_code, line_no, unit_no, checklist_id, checklist_hash, suggested, "
            "final, station, inspector, started_at, ended_at, channel, suggested_channel, bin, lpn) "
            "VALUES (?, ?, 1, 1, 'apparel', 'h', ?, ?, 'bench-old', 'op', ?, ?, ?, ?, ?, ?)",
            (
                (
                    f"bench-inspection-{n:08d}",  # in order: the primary key is filled as the station fills it
                    f"RMA-{n:08d}",
                    GRADES.get(channel_of(n), "scrapped"),
                    GRADES.get(channel_of(n), "scrapped"),
                    ended[n],
                    ended[n],
                    channel_of(n),
                    channel_of(n),
                    BIN_OF[channel_of(n)],
                    every[n],
                )
                for n in span
            ),
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)


def build_server(path: Path, station: Path, lpns: int) -> None:
    """The server's handoff_units with the station's plates (executemany, one transaction)."""
    from server.db import ServerDb

    if path.exists():
        return
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    print(f"building {path} ({lpns:,} plates on the server) ...", flush=True)
    started = time.perf_counter()
    ServerDb(str(tmp)).close()
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    now = utc_now()
    with sqlite3.connect(station) as source:
        every = [r[0] for r in source.execute("SELECT lpn FROM inspections ORDER BY rowid")]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO handoff_units (lpn, rma_code, line_no, unit_no, sku, grade, channel, bin, state, event_id, "
        "updated_at) VALUES (?, ?, 1, 1, ?, ?, ?, NULL, 'inspected', ?, ?)",
        (
            (
                every[n],
                f"RMA-{n:08d}",
                f"SKU-{n % 9999}",
                GRADES.get(channel_of(n), "scrapped"),
                channel_of(n),
                "bench",
                now,
            )
            for n in range(lpns)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    tmp.rename(path)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)


def copy(src: Path, name: str) -> Path:
    dst = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copy(src, dst)
    return dst


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:34} n={len(ms):5}  p50 {statistics.median(ms):7.3f} ms  p99 {p99:7.3f} ms  max {ms[-1]:7.3f} ms"


# what each scan shows on the put-away screen: the plate's outcome, then the bin's (None: no bin scanned)
SHOWN = {
    "put away": ("TO BIN", "PUT AWAY"),
    "wrong bin": ("TO BIN", "WRONG BIN"),
    "not inspected": ("NOT INSPECTED", None),
}


async def run_app(db: str, scans: list[list[str]], spawned_at: float) -> dict:
    """Inside the measured process: the real app on the put-away screen, every scan a scanner burst."""
    from textual import events

    from terminal.app import make_app
    from terminal.config import Settings
    from terminal.scanning.keyboard import key_event
    from terminal.screens.putaway import PutAwayScreen
    from terminal.screens.receive import ReceiveScreen
    from terminal.widgets.outcome_banner import OutcomeBanner
    from terminal.widgets.status_bar import StatusBar

    bins = {name: tuple(channels) for name, channels in BINS.items()}  # the bench's bins, beside the routing's
    app = make_app(Settings(station="bench", db=db, bins=bins, sources={"db": "flag"}), operator="bench-op")
    db_times = time_database_jobs(app)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, ReceiveScreen) and app.screen.query_one(StatusBar).station):
            await asyncio.sleep(0.001)
        startup = time.time() - spawned_at
        await pilot.press("f12")
        while not (isinstance(app.screen, PutAwayScreen) and (app.screen.bins or app.screen.bins_problem)):
            await asyncio.sleep(0.001)
        screen = app.screen
        if screen.bins_problem:
            raise SystemExit(screen.bins_problem)
        banner = screen.query_one(OutcomeBanner)

        async def burst(text: str, jobs: list[float]) -> tuple[float, str]:
            before = screen.handled
            for ch in text:
                app.post_message(key_event(ch))
            await pilot.pause()  # the burst's characters are in the field
            first_job, enter_at = len(db_times), time.monotonic()
            app.post_message(events.Key("enter", "\r"))
            while screen.handled == before:
                await asyncio.sleep(0)
            seconds = banner.shown_at - enter_at
            mine = [(t, d) for t, d in db_times[first_job:] if enter_at <= t <= banner.shown_at]  # this scan's jobs
            jobs.append(sum(d for _, d in mine))
            if os.environ.get("BENCH_DEBUG") and seconds > 0.02:
                print(
                    f"slow {seconds * 1000:.0f} ms {text!r} db jobs (ms after Enter, ms) "
                    f"{[(round((t - enter_at) * 1000, 1), round(d * 1000, 1)) for t, d in mine]}",
                    file=sys.stderr,
                )
            return seconds, banner.word

        plate_times, bin_times, outcomes = [], [], {"put away": 0, "wrong bin": 0, "not inspected": 0, "other": 0}
        plate_jobs: list[float] = []
        bin_jobs: list[float] = []
        for lpn, bin_name, expected in scans:
            seconds, word = await burst(lpn, plate_jobs)
            plate_times.append(seconds)
            words = [word]
            if SHOWN[expected][1]:
                seconds, word = await burst(f"BIN:{bin_name}", bin_jobs)
                bin_times.append(seconds)
                words.append(word)
            outcomes[expected if tuple(words) == tuple(w for w in SHOWN[expected] if w) else "other"] += 1
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    return {
        "startup_s": startup,
        "plates": plate_times,
        "bins": bin_times,
        "plate_jobs": plate_jobs,
        "bin_jobs": bin_jobs,
        "outcomes": outcomes,
        "peak_rss_mb": peak_kb / 1024,
    }


def app_phase(source: Path, scans: list[tuple[str, str, str]]) -> None:
    """The same scans through the real app, in a fresh process, on a fresh copy of the database."""
    result = in_fresh_process(__file__, copy(source, "lpn-app-run.db"), scans)
    print(f"app: start-up to ready to scan {result['startup_s']:.2f} s, peak memory {result['peak_rss_mb']:.0f} MB")
    print(figures("app: plate scan → bin shown", result["plates"]))
    print(figures("app: bin scan → put away shown", result["bins"]))
    print(figures("app: every burst", result["plates"] + result["bins"]))
    print(figures("  of it, plate's database job", result["plate_jobs"]))
    print(figures("  of it, bin's database job", result["bin_jobs"]))
    print("app outcomes:", ", ".join(f"{k} {v}" for k, v in result["outcomes"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lpns", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--no-app", action="store_true", help="Not through the station app.")
    parser.add_argument("--no-server", action="store_true", help="Only the station's database.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spawned_at, db, app_scans = json.loads(args.child)
        print(json.dumps(asyncio.run(run_app(db, app_scans, spawned_at))))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    source = OUT / f"lpn-station-{args.lpns}-v2.db"  # v2: inspections dated by their plates, not today
    build(source, args.lpns)
    station_db = copy(source, "lpn-station-run.db")
    rng = random.Random(3)
    picked = rng.sample(range(args.lpns), args.scans)
    scans = []  # (plate, bin, what is expected)
    raw = sqlite3.connect(station_db)
    for i, n in enumerate(picked):
        if i % 20 == 19:
            scans.append((new_lpn(), BIN_OF[channel_of(n)], "not inspected"))
        elif i % 10 == 9:
            scans.append((plate_of(raw, n), BIN_OF[channel_of(n + 1)], "wrong bin"))
        else:
            scans.append((plate_of(raw, n), BIN_OF[channel_of(n)], "put away"))
    raw.close()
    raw = sqlite3.connect(station_db)  # a fresh connection for the figures, as the station opens its own
    plan = raw.execute(
        "EXPLAIN QUERY PLAN SELECT rma_code, line_no, unit_no, final, channel, bin FROM inspections WHERE lpn = ?",
        (scans[0][0],),
    ).fetchall()
    print("query plan:", "; ".join(str(r[-1]) for r in plan))
    raw_times = []
    for lpn, _bin, _ in scans:
        started = time.perf_counter()
        raw.execute(
            "SELECT rma_code, line_no, unit_no, final, channel, bin FROM inspections WHERE lpn = ?", (lpn,)
        ).fetchone()
        raw_times.append(time.perf_counter() - started)
    raw.close()

    store = Store(station_db)
    lookups, scan_times, outcomes = [], [], {"put away": 0, "wrong bin": 0, "not inspected": 0, "other": 0}
    for lpn, _bin, _ in scans:
        started = time.perf_counter()
        store.unit_by_lpn(lpn)
        lookups.append(time.perf_counter() - started)
    pushed = []
    for lpn, bin_name, expected in scans:
        started = time.perf_counter()
        store.unit_by_lpn(lpn)
        try:
            store.put_away(lpn, bin_name, "bench", "op", bins=BINS)
            outcome = "put away"
        except PutAwayRefused as exc:
            outcome = {"WRONG BIN": "wrong bin", "NOT INSPECTED": "not inspected"}.get(exc.refusal.value, "other")
        scan_times.append(time.perf_counter() - started)
        outcomes[outcome if outcome == expected else "other"] += 1
    for ev in store.events(0, len(scans) + 10):
        if ev.type == "unit.put_away":
            pushed.append(ev)
    store.close()

    print(f"station database: {args.lpns:,} plates, {source.stat().st_size / 2**20:.0f} MB")
    print(figures("raw sqlite3 lookup by lpn", raw_times))
    print(figures("Store.unit_by_lpn", lookups))
    print(figures("scan: lookup + put-away (commit)", scan_times))
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in outcomes.items()))
    if not args.no_app:
        app_phase(source, scans)

    if args.no_server:
        return
    from server.db import ServerDb
    from sync.protocol import PushBatch

    server_source = OUT / f"lpn-server-{args.lpns}.db"
    build_server(server_source, source, args.lpns)
    server_db = ServerDb(str(copy(server_source, "lpn-server-run.db")))
    server_db.add_station("bench")
    push_times = []
    for seq, ev in enumerate(pushed, 1):
        batch = PushBatch.model_validate(
            {
                "after_seq": seq - 1,
                "events": [
                    {
                        "seq": seq,
                        "id": ev.id,
                        "type": ev.type,
                        "operator": ev.operator,
                        "at": ev.at,
                        "rma_code": ev.rma_code,
                        "payload": json.loads(ev.payload) if isinstance(ev.payload, str) else ev.payload,
                    }
                ],
            }
        )
        started = time.perf_counter()
        result = server_db.push("bench", batch)
        push_times.append(time.perf_counter() - started)
        assert result.stored == 1, result
    server_db.close()
    print(figures("server: push of one put-away", push_times))


if __name__ == "__main__":
    main()
