"""Photo sync benchmark: one station sends N inspection photos, then checks them all again.

    .venv/bin/python bench/photo_bench.py                      # both databases, 200 photos
    .venv/bin/python bench/photo_bench.py --db sqlite --photos 50

The server runs as its own process (`rma server`, no rate limit) on a loopback
port; PostgreSQL is a throw-away cluster from the machine's binaries with fsync
ON.  Photos are real 1920x1080 JPEGs (quality 90, a smooth gradient with noise,
~0.5-1 MB like a bench camera's).  Figures: photos and MB per second of the
photo phase of a sync (events already pushed), per-upload latency, the time of
a later round that asks the server about every photo again (``photo_recheck=0``),
and a check that the server holds every photo with the right bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync_bench import pct, server_databases, start_server

from server.db import ServerDb
from sync.client import SyncClient
from sync.store import Inspection, Store


def photo(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:1080, 0:1920]
    base = ((x / 1920 * 200 + y / 1080 * 55 + seed) % 256).astype(np.uint8)
    frame = np.dstack([base, np.roll(base, seed % 97, axis=1), 255 - base])
    frame = np.clip(frame + rng.normal(0, 6, frame.shape), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


def make_station(path: Path, n: int) -> dict[str, bytes]:
    """A station that inspected ``n`` items with one camera photo each."""
    folder = path.parent / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    with Store(path) as store:
        for i in range(n):
            data = photo(i)
            sha = hashlib.sha256(data).hexdigest()
            (folder / f"{sha}.jpg").write_bytes(data)
            made[sha] = data
            code = f"RMA-{i:06d}"
            with store.write() as conn:
                store.upsert_rma(conn, {"rma_code": code, "status": "authorized"}, [{"sku": "S", "qty": 1}])
            store.receive(code, "bench", "anna")
            store.save_inspection(
                Inspection(
                    rma_code=code,
                    line_no=1,
                    checklist_id="general",
                    checklist_hash="ab" * 32,
                    answers=(
                        {"item": "works", "kind": "pass_fail", "answer": "fail", "failed": True, "severity": "major"},
                    ),
                    suggested="scrapped",
                    final="scrapped",
                    started_at="2026-11-21T10:00:00.000+00:00",
                    photos=({"item": "works", "sha256": sha, "path": str(folder / f"{sha}.jpg"), "bytes": len(data)},),
                ),
                "bench",
                "qc1",
            )
    return made


def bench(kind: str, url: str, n: int, work: Path) -> dict:
    db = ServerDb(url)
    token = db.add_station("bench")
    db.close()
    station = work / "station" / "station.db"
    station.parent.mkdir()
    made = make_station(station, n)
    proc, base = start_server(url)
    try:
        puts: list[float] = []
        client = SyncClient(base, token)
        client.session.hooks["response"].append(
            lambda r, *a, **k: puts.append(r.elapsed.total_seconds()) if r.request.method == "PUT" else None
        )
        with Store(station) as store:
            client.sync(store, photos=False)  # the events first, so the photo phase is timed alone
            t0 = time.perf_counter()
            report = client.send_photos(store)
            took = time.perf_counter() - t0
            recheck = SyncClient(base, token, photo_recheck=0)
            t1 = time.perf_counter()
            again = recheck.sync(store, pull=False)
            recheck_took = time.perf_counter() - t1
        client.close()
        recheck.close()
    finally:
        proc.terminate()
        proc.wait(10)
    db = ServerDb(url, create=False)
    wrong = sum(1 for sha, data in made.items() if (db.photo(sha) or ("", b""))[1] != data)
    db.close()
    mb = sum(len(d) for d in made.values()) / 2**20
    return {
        "db": kind,
        "sent": report.photos_sent,
        "problems": len(report.photo_problems),
        "seconds": took,
        "photos_per_s": report.photos_sent / took,
        "mb_per_s": mb / took,
        "mean_kb": mb * 1024 / n,
        "p50": pct(puts, 50),
        "p99": pct(puts, 99),
        "recheck_s": recheck_took,
        "resent": again.photos_sent,
        "wrong": wrong,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--photos", type=int, default=200)
    a = p.parse_args()
    rows = [bench(kind, url, a.photos, work) for kind, url, work in server_databases(a.db)]
    print(f"machine: {os.cpu_count()} cores; one station, {a.photos} photos")
    for r in rows:
        print(
            f"[{r['db']}] sent {r['sent']} photos ({r['mean_kb']:.0f} kB each) in {r['seconds']:.2f} s: "
            f"{r['photos_per_s']:.1f} photos/s, {r['mb_per_s']:.1f} MB/s; PUT p50 {r['p50']:.1f} ms "
            f"p99 {r['p99']:.1f} ms; recheck of all {a.photos}: {r['recheck_s'] * 1000:.0f} ms "
            f"(re-sent {r['resent']}); problems {r['problems']}; wrong or missing on the server {r['wrong']}"
        )


if __name__ == "__main__":
    main()
