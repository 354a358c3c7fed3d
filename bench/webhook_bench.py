"""Webhook delivery: deliveries a second from the real `rma server` to a loopback receiver, and a SIGKILL.

    .venv/bin/python bench/webhook_bench.py                         # SQLite and PostgreSQL, 20,000 deliveries each
    .venv/bin/python bench/webhook_bench.py --db sqlite --events 5000

Per database, two phases against one real receiver in this process (the threaded ``http.server``
of ``tests/helpers/webhook_receiver.py``: it checks every signature, answers 204, and counts ids):

* **throughput**: ``--events`` receipts are pushed through :meth:`ServerDb.push` (the push's own
  code path, so each event's delivery is queued in the push's transaction) while no server runs;
  then ``rma server`` starts and sends them.  Figure: deliveries a second between the first and
  the last one the receiver took (the server's start-up is not in it), and the wall time;
* **SIGKILL**: another ``--events`` are queued, the server starts, is SIGKILLed once the receiver
  holds a third of them, and is started again.  Then every delivery id the database holds must
  have arrived (0 lost), no id may have arrived for two events (0 duplicated ids), and the
  re-sends of ids that had arrived before the kill (at least once: the receiver dedupes on
  ``webhook-id``) are counted.

The receiver and the server share the machine's cores; the figure is the pair's, not the server's alone.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync_bench import server_databases

from server.db import ServerDb
from server.hooks.admin import add_endpoint
from server.hooks.outbox import deliveries
from sync.protocol import PushBatch
from tests.helpers.local_postgres import free_port
from tests.helpers.webhook_receiver import WebhookReceiver

RMA = [sys.executable, "-c", "from terminal.cli import main; main()"]


def queue(db: ServerDb, station: str, after: int, count: int) -> int:
    """Push ``count`` receipts of ``station`` after seq ``after`` (batches of 1000); returns the last seq."""
    seq = after
    while seq < after + count:
        n = min(1000, after + count - seq)
        events = [
            {
                "seq": seq + i,
                "id": str(uuid.uuid4()),
                "type": "parcel.unexpected",
                "operator": "bench",
                "at": "2026-12-01T10:00:00.000+00:00",
                "payload": {"scanned": f"SF{seq + i:012d}"},
            }
            for i in range(1, n + 1)
        ]
        db.push(station, PushBatch.model_validate({"after_seq": seq, "events": events}))
        seq += n
    return seq


def start_server(url: str, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [*RMA, "server", "--db", url, "--port", str(port), "--rate", "0"],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the server exited; see {log.name}")
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def held_ids(db: ServerDb, event_ids: set[str] | None = None) -> dict[str, str]:
    """delivery id -> event id of every delivery (of these events) the database holds."""
    with db.read() as conn:
        rows = conn.execute(sa.select(deliveries.c.id, deliveries.c.event_id)).all()
    return {r.id: r.event_id for r in rows if event_ids is None or r.event_id in event_ids}


def bench(kind: str, url: str, events: int, work: Path) -> dict:
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    hook = WebhookReceiver(secret).start()
    db = ServerDb(url)
    db.add_station("bench-1")
    add_endpoint(db, hook.url, "receipt", secret)
    log = open(work / "server.log", "wb")  # noqa: SIM115 - open for both server runs
    result: dict = {"db": kind, "events": events}
    try:
        # throughput
        seq = queue(db, "bench-1", 0, events)
        first_ids = set(held_ids(db))
        spawned = time.monotonic()
        proc, _ = start_server(url, log)
        ok = wait_for(lambda: len(hook.delivered()) >= len(first_ids), timeout=600)
        wall = time.monotonic() - spawned
        arrivals = sorted(hook.arrivals)
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
        result.update(
            rate=(len(arrivals) - 1) / span if span else float("nan"),
            wall=wall,
            first_complete=ok and hook.delivered() >= first_ids,
        )
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

        # SIGKILL mid-delivery
        before_kill_ids = hook.delivered()
        with db.read() as conn:
            known = set(conn.execute(sa.select(deliveries.c.event_id)).scalars())
        queue(db, "bench-1", seq, events)
        with db.read() as conn:
            second_events = set(conn.execute(sa.select(deliveries.c.event_id)).scalars()) - known
        expected = held_ids(db, second_events)
        sends_before = sum(hook.ids[i] for i in expected)
        proc, _ = start_server(url, log)
        wait_for(lambda: len(hook.delivered() & expected.keys()) >= len(expected) // 3, timeout=600)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        at_kill = len(hook.delivered() & expected.keys())
        proc, _ = start_server(url, log)
        wait_for(lambda: expected.keys() <= hook.delivered(), timeout=600)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        got = hook.delivered() & expected.keys()
        events_of: dict[str, set[str]] = {}
        for r in hook.requests:
            if r.id in expected and r.verified:
                events_of.setdefault(r.id, set()).add(r.body["data"]["event_id"])
        result.update(
            at_kill=at_kill,
            lost=len(expected.keys() - got),
            foreign=len((hook.delivered() - before_kill_ids) - expected.keys()),
            dup_ids=sum(1 for e in events_of.values() if len(e) > 1) + len(expected) - len(set(expected.values())),
            resent=sum(hook.ids[i] for i in expected) - sends_before - len(got),
            # a whole body whose signature fails; a request cut off by the kill is not whole (answered 401)
            bad_signatures=sum(1 for r in hook.requests if not r.verified and "data" in r.body),
            cut=sum(1 for r in hook.requests if "data" not in r.body),
            expected=len(expected),
        )
    finally:
        log.close()
        hook.stop()
        db.close()
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--events", type=int, default=20_000, help="deliveries per phase")
    a = p.parse_args()
    rows = [bench(kind, url, a.events, work) for kind, url, work in server_databases(a.db)]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; {a.events} per phase")
    for r in rows:
        print(f"[{r['db']}]")
        print(
            f"  throughput : {r['rate']:7.0f} deliveries/s (first to last at the receiver), "
            f"{r['events'] / r['wall']:6.0f}/s from spawning the server; all arrived: {r['first_complete']}"
        )
        print(
            f"  SIGKILL    : killed with {r['at_kill']}/{r['expected']} arrived; lost {r['lost']}, "
            f"duplicated ids {r['dup_ids']}, foreign ids {r['foreign']}, bad signatures {r['bad_signatures']} "
            f"(requests cut off by the kill: {r['cut']}), "
            f"re-sent (same id, deduped by the receiver) {r['resent']}"
        )


if __name__ == "__main__":
    main()
